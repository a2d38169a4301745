// Package localgw is a local stand-in for Amazon API Gateway (HTTP API,
// payload format 2.0) driven by the project's SAM template.
//
// A Gateway routes real HTTP requests exactly as template.yaml's HttpApi
// events do, turns each into the event API Gateway would send (route key,
// raw path and query, decoded path and query parameters, lower-cased
// headers, cookies, request context, base64 bodies for binary content) and
// turns the function's answer back into an HTTP response. Routes whose
// template Auth is AWS_IAM accept requests signed with AWS SigV4 (the
// signature itself is not checked locally) and refuse unsigned ones with
// 403, as API Gateway's IAM authorizer does.
//
// Functions are reached through an Invoker: InProcess calls the same
// lambda.Handler the deployed binary runs, and RIE posts to a function's
// built bootstrap running under the AWS Lambda Runtime Interface Emulator.
//
// Besides the API, a Gateway serves GET /healthz and
// POST /_local/invoke/{LogicalId}, which invokes a function with the request
// body as its raw event, as `sam local invoke` does.
package localgw
