// Command billing is the billing Lambda function; its behaviour lives in shared/.
package main

import "partnerportal/shared/functions"

func main() { functions.Start("billing") }
