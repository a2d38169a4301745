// Package api implements every route of the Partner Portal HTTP API. The
// Lambda functions, the local runner and the tests all serve requests through
// the routers built here, so they run the same code.
//
// Routes are grouped by the Lambda function that serves them (see Group);
// template.yaml routes each API Gateway route to its group's function, and a
// test keeps the two in step.
package api
