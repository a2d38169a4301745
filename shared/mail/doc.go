// Package mail sends the portal's email: through SES v2 in AWS, or into an
// outbox folder of RFC 5322 .eml files locally. Every message has a plain
// text and an HTML body.
package mail
