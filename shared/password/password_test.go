package password

import (
	"strings"
	"testing"
)

// cheap keeps the unit tests fast; the parameters are still read back from
// the PHC string, which is what the tests are about.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := HashWith(cheap, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string = %q", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := Verify(pw, h)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := HashWith(cheap, "correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestDecodeReadsParameters(t *testing.T) {
	h, _ := HashWith(Params{Memory: 128, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}, "pw")
	p, salt, key, err := Decode(h)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Params{Memory: 128, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}) || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("decoded %+v, %d-byte salt, %d-byte key", p, len(salt), len(key))
	}
	if !NeedsRehash(h, Default) {
		t.Error("a weaker hash does not need a rehash under Default")
	}
	if NeedsRehash(h, p) {
		t.Error("a hash needs a rehash under its own parameters")
	}
}

func TestMalformed(t *testing.T) {
	good, _ := HashWith(cheap, "pw")
	for _, h := range []string{"", "test-hash", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		strings.Replace(good, "v=19", "v=16", 1), strings.Replace(good, "m=64", "m=0", 1), strings.Replace(good, "p=1", "p=300", 1),
		good + "$extra", good[:len(good)-30]} {
		if ok, err := Verify("pw", h); ok || err == nil {
			t.Errorf("Verify against %q = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestDummyMatchesDefault(t *testing.T) {
	p, _, _, err := Decode(dummy)
	if err != nil {
		t.Fatal(err)
	}
	if p != Default {
		t.Fatalf("dummy hash parameters %+v differ from Default %+v: unknown emails would cost a different amount of work", p, Default)
	}
	if VerifyDummy("") {
		t.Fatal("VerifyDummy accepted a password")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		ok        bool
	}{
		{"abcdefghijkl", "jane@example.com", true},
		{"abcdefghijk", "jane@example.com", false},                   // 11
		{strings.Repeat("é", 12), "jane@example.com", true},          // characters, not bytes
		{strings.Repeat("x", 128), "jane@example.com", true},         // upper bound
		{strings.Repeat("x", 129), "jane@example.com", false},        // too long
		{"my-JANE-password", "jane@example.com", false},              // local part, any case
		{"example.com-is-fine", "jane@example.com", true},            // the domain is allowed
		{"first.last.secret!", "first.last@example.com", false},      // dots in the local part
		{"has a first.lasT inside", "first.last@example.com", false}, // case-insensitive
	} {
		if got := Check(tc.pw, tc.email) == ""; got != tc.ok {
			t.Errorf("Check(%q, %q) ok = %v, want %v (%s)", tc.pw, tc.email, got, tc.ok, Check(tc.pw, tc.email))
		}
	}
}

// BenchmarkHash measures one argon2id hash with Default, the cost of every
// sign-in, invitation acceptance and password change.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is what a sign-in pays, for a known or an unknown email.
func BenchmarkVerify(b *testing.B) {
	for b.Loop() {
		VerifyDummy("correct horse battery staple")
	}
}
