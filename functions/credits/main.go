// Command credits is the credits Lambda function; its behaviour lives in shared/.
package main

import "partnerportal/shared/functions"

func main() { functions.Start("credits") }
