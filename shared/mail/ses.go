package mail

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SES sends through Amazon SES v2 from a verified sender identity.
type SES struct {
	Client *sesv2.Client
	From   string
}

// Send hands m to SES.
func (s *SES) Send(ctx context.Context, m Message) error {
	content := func(v string) *types.Content {
		return &types.Content{Data: aws.String(v), Charset: aws.String("UTF-8")}
	}
	_, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: content(m.Subject),
			Body:    &types.Body{Text: content(m.Text), Html: content(m.HTML)},
		}},
	})
	return err
}
