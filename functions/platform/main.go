// Command platform is the platform Lambda function; its behaviour lives in shared/.
package main

import "partnerportal/shared/functions"

func main() { functions.Start("platform") }
