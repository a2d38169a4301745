package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// SiteChild names one item under a site, for Authenticate to load in the
// same round trip as the session and the site: a note or a site
// administrator. The zero value names nothing.
type SiteChild struct{ suffix string }

// NoteChild names note nid of the route's site.
func NoteChild(nid string) SiteChild {
	if !portal.ValidID(nid) {
		return SiteChild{}
	}
	return SiteChild{"NOTE#" + nid}
}

// SiteAdminChild names the site administrator with the (normalised) email.
func SiteAdminChild(email string) SiteChild {
	if !portal.ValidEmail(email) {
		return SiteChild{}
	}
	return SiteChild{"ADMIN#" + email}
}

func (c SiteChild) key(pid, sid string) (key, bool) {
	if c.suffix == "" {
		return key{}, false
	}
	return key{partnerPK(pid), sitePrefix(sid) + "#" + c.suffix}, true
}

// countChild adds delta to the site's child count on condition that the
// site exists: a note or site administrator is never attached to a site
// that a concurrent request deleted.
func (s *Store) countChild(pid, sid string, delta int64) write {
	return s.update(siteKey(pid, sid), expr{text: "ADD #Children :delta", values: map[string]any{":delta": delta}},
		expr{text: "attribute_exists(PK)"}, errSiteNotFound)
}

// siteExists is a condition check that the site is still there.
func (s *Store) siteExists(pid, sid string) write {
	return s.check(siteKey(pid, sid), expr{text: "attribute_exists(PK)"}, errSiteNotFound)
}

// purgePages bounds PurgeSiteChildren: 1,000 pages of 100 items.
const purgePages = 1000

// PurgeSiteChildren removes the notes and site administrators of a deleted
// site, and voids the links of pending site-administrator invitations. It
// is idempotent: DeleteSite calls it after the site is gone, and a DELETE of
// an absent site calls it again to finish a cleanup that was interrupted.
// It touches nothing when the site still exists.
func (s *Store) PurgeSiteChildren(ctx context.Context, pid, sid string) error {
	if !portal.ValidID(sid) {
		return nil
	}
	prefix := sitePrefix(sid) + "#"
	for range purgePages {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("#PK = :pk AND begins_with(#SK, :pre)"),
			ExpressionAttributeNames:  map[string]string{"#PK": attrPK, "#SK": attrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: partnerPK(pid)}, ":pre": &types.AttributeValueMemberS{Value: prefix}},
			ConsistentRead:            aws.Bool(true),
			Limit:                     aws.Int32(100),
		})
		if err != nil {
			return err
		}
		if len(out.Items) == 0 {
			return nil
		}
		var reqs []types.WriteRequest
		for _, it := range out.Items {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: keyOf(it).av()}})
			if !strings.HasPrefix(keyOf(it).sk, prefix+"ADMIN#") {
				continue
			}
			var a siteAdminItem
			if err := unmarshal(it, &a); err != nil {
				return err
			}
			if a.Status == SiteAdminInvited && a.TokenHash != "" {
				tok, err := marshal(tokenKey(a.TokenHash), tokenItem{Kind: string(portal.KindSiteAdmin), State: tokenVoid,
					PartnerID: pid, SiteID: sid, Email: a.Email, ExpiresAt: a.ExpiresAt}, nil)
				if err != nil {
					return err
				}
				tok[AttrTTL] = ttlAttr(a.ExpiresAt.Add(tokenRetention))
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: tok}})
			}
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			// That was all of them: the Query stopped at the end of the
			// prefix, not at its limit.
			return nil
		}
	}
	return fmt.Errorf("dynamo: site %s still has children after %d pages", sid, purgePages)
}

// batchWrite runs unconditional puts and deletes, 25 per BatchWriteItem,
// retrying unprocessed items a few times.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		pending := reqs[:n]
		reqs = reqs[n:]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 5 {
				return errors.New("dynamo: batch write left unprocessed items")
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: pending}})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}
