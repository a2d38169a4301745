package dynamo

import "time"

// Keys of every item kind. docs/data-model.md is the readable version.

func partnerPK(pid string) string { return "P#" + pid }

func partnerKey(pid string) key { return key{partnerPK(pid), "PARTNER"} }

// partnersIndexPK groups every partner on GSI1 for the platform listing.
const partnersIndexPK = "PARTNERS"

func adminKey(pid, aid string) key { return key{partnerPK(pid), "ADMIN#" + aid} }

const adminPrefix = "ADMIN#"

// accountKey is the system-wide owner of an email address: credentials,
// lockout state and which administrator the email belongs to.
func accountKey(email string) key { return key{"EMAIL#" + email, "ACCOUNT"} }

func sessionKey(hash string) key { return key{"SESSION#" + hash, "SESSION"} }

func invitationKey(pid, iid string) key { return key{partnerPK(pid), "INVITATION#" + iid} }

const invitationPrefix = "INVITATION#"

// tokenKey points from the hash of a secret link token to what it unlocks.
func tokenKey(hash string) key { return key{"TOKEN#" + hash, "TOKEN"} }

func siteKey(pid, sid string) key { return key{partnerPK(pid), "SITE#" + sid} }

func sitePrefix(sid string) string { return "SITE#" + sid }

func siteNameKey(pid, lowerName string) key { return key{partnerPK(pid), "SITENAME#" + lowerName} }

func sitesIndexPK(pid string) string { return partnerPK(pid) + "#SITES" }

func sitesByCountryPK(pid, country string) string { return partnerPK(pid) + "#SITES#" + country }

func noteKey(pid, sid, nid string) key { return key{partnerPK(pid), "SITE#" + sid + "#NOTE#" + nid} }

func siteAdminKey(pid, sid, email string) key {
	return key{partnerPK(pid), "SITE#" + sid + "#ADMIN#" + email}
}

// siteAdminEmailPK finds a partner's site administrators by email (GSI2).
func siteAdminEmailPK(pid, email string) string { return partnerPK(pid) + "#SITEADMIN#" + email }

func ledgerPK(pid string) string { return partnerPK(pid) + "#LEDGER" }

func siteLedgerPK(pid, sid string) string { return partnerPK(pid) + "#LEDGER#" + sid }

func ledgerKey(pid string, at time.Time, eid string) key {
	return key{ledgerPK(pid), ts(at) + "#" + eid}
}

func chargeKey(pid, month, sid string) key { return key{partnerPK(pid), "CHARGE#" + month + "#" + sid} }

func alertKey(pid, kind, month, sid string) key {
	return key{partnerPK(pid), "ALERT#" + kind + "#" + month + "#" + sid}
}

func auditPK(pid string) string { return partnerPK(pid) + "#AUDIT" }

func auditKey(pid string, at time.Time, id string) key { return key{auditPK(pid), ts(at) + "#" + id} }

// idempotencyKey scopes a client's Idempotency-Key to a partner (or to the
// platform) and to the route it was used on.
func idempotencyKey(scope, route, k string) key { return key{"IDEM#" + scope + "#" + k, route} }

// purchaseRefKey records a purchase's reference: the platform's order or
// invoice number buys credits at most once per partner.
func purchaseRefKey(pid, reference string) key { return key{partnerPK(pid), "PURCHASE#" + reference} }
