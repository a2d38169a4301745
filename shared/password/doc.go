// Package password hashes and verifies portal passwords with argon2id and
// enforces the password policy of SPEC §5.
//
// Hashes are PHC strings ($argon2id$v=19$m=...,t=...,p=...$salt$hash) that
// carry their own parameters, so Default can be raised later: old hashes keep
// verifying with the parameters they were made with, and NeedsRehash tells
// the caller when to store a stronger one.
package password
