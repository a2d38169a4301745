package portal

import (
	"strings"
	"time"
	_ "time/tzdata" // embed the IANA database: Lambda's image may lack one
	"unicode/utf8"
)

// countries is the ISO 3166-1 alpha-2 list of officially assigned codes (249).
var countries = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW") {
		m[c] = true
	}
	return m
}()

// ValidCountry reports whether c is an assigned ISO 3166-1 alpha-2 code
// (upper case, as the API stores and returns it).
func ValidCountry(c string) bool { return countries[c] }

// ValidTimeZone reports whether z names a zone of the IANA database, e.g.
// "Europe/Paris". "Local" and the empty string are not zones.
func ValidTimeZone(z string) bool {
	if z == "" || z == "Local" || len(z) > 64 {
		return false
	}
	_, err := time.LoadLocation(z)
	return err == nil
}

// ValidName reports whether a display name has 1..max characters after
// trimming and no control characters.
func ValidName(s string, max int) bool {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > max || strings.TrimSpace(s) != s || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
