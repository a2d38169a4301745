// Package samtemplate reads the parts of the project's AWS SAM template that
// the local runner and the tests need: each function's code folder,
// environment and events (HTTP API routes with their authorization, and
// schedules), the template's parameters, and the DynamoDB table definition.
//
// It walks the yaml.v3 node tree rather than decoding into a fixed schema so
// that CloudFormation short-form tags (!Ref, !GetAtt, !Sub) survive as
// values the caller can resolve, and so that SAM properties this package does
// not know are simply ignored instead of rejected.
package samtemplate
