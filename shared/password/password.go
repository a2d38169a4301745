package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// Default follows OWASP's password storage guidance for argon2id (19 MiB,
// two passes, one lane). One lane keeps the cost predictable on a Lambda
// function with a fraction of a vCPU; docs/accounts.md records the measured
// time per hash.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrMalformed reports a stored hash that is not an argon2id PHC string.
var ErrMalformed = errors.New("password: not an argon2id PHC string")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw under Default with a fresh random salt.
func Hash(pw string) (string, error) { return HashWith(Default, pw) }

// HashWith hashes pw with the given parameters.
func HashWith(p Params, pw string) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.SaltLen < 8 || p.KeyLen < 16 {
		return "", fmt.Errorf("password: unusable parameters %+v", p)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Decode parses a PHC string into its parameters, salt and key.
func Decode(phc string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		p.Memory == 0 || p.Time == 0 || threads == 0 || threads > 255 {
		return p, nil, nil, ErrMalformed
	}
	p.Threads = uint8(threads)
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Verify reports whether pw matches the PHC string, recomputing the hash
// with the string's own parameters and comparing in constant time.
func Verify(pw, phc string) (bool, error) {
	p, salt, key, err := Decode(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether a stored hash was made with weaker parameters
// than p (or cannot be parsed), so it should be replaced after a successful
// sign-in.
func NeedsRehash(phc string, p Params) bool {
	got, _, _, err := Decode(phc)
	if err != nil {
		return true
	}
	return got.Memory < p.Memory || got.Time < p.Time || got.Threads < p.Threads || got.KeyLen < p.KeyLen
}

// dummy is a hash of a random password nobody knows, made with Default. A
// sign-in for an unknown email verifies against it, so that it costs the
// same as a wrong password. A test keeps its parameters equal to Default.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$6uWteQkx0nt21bvhofFFtw$DTJKSKY0ZdoW0cL59rE/iiHpxSn9aBOSKyfjawxAKhE"

// VerifyDummy spends the work of one Verify and always reports false.
func VerifyDummy(pw string) bool {
	_, _ = Verify(pw, dummy)
	return false
}

// Length bounds of SPEC §5, in characters.
const (
	MinLength = 12
	MaxLength = 128
)

// Check returns why pw is not acceptable for the account with the given
// (normalised) email, or "" when it is: 12 to 128 characters, not containing
// the email's local part in any letter case.
func Check(pw, email string) string {
	n := utf8.RuneCountInString(pw)
	if n < MinLength || n > MaxLength {
		return fmt.Sprintf("must be %d to %d characters", MinLength, MaxLength)
	}
	local := email
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		local = email[:at]
	}
	if local != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(local)) {
		return "must not contain the part of your email address before the @"
	}
	return ""
}
