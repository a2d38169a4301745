// Package e2e holds the end-to-end tests: the built bootstrap of every
// function, each running under the AWS Lambda Runtime Interface Emulator,
// behind the local gateway, driven over HTTP. It has no code of its own.
package e2e
