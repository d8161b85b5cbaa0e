package mailin

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/schulit/cmdb/server/cmdb"
)

// Microsoft 365 application sign-in for IMAP (client-credentials grant;
// the app needs the IMAP.AccessAsApp permission and an Exchange service
// principal with access to the mailbox).
const (
	// MicrosoftIMAPScope is the scope an IMAP access token is asked for.
	MicrosoftIMAPScope = "https://outlook.office365.com/.default"
	// MicrosoftIMAPAddr is Exchange Online's IMAP endpoint (implicit TLS).
	MicrosoftIMAPAddr = "outlook.office365.com:993"
)

// MicrosoftTokenURL returns the token endpoint of an Entra ID tenant.
func MicrosoftTokenURL(tenantID string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token"
}

// ClientCredentialsTokenSource returns a caching token source for
// Config.TokenSource that gets access tokens from tokenURL with the OAuth2
// client-credentials grant (for Microsoft 365: MicrosoftTokenURL and
// MicrosoftIMAPScope). ctx bounds the token requests. It returns EINVALID
// naming the missing field.
func ClientCredentialsTokenSource(ctx context.Context, tokenURL, clientID string, secret cmdb.Secret, scopes ...string) (oauth2.TokenSource, error) {
	if _, err := url.ParseRequestURI(tokenURL); err != nil {
		return nil, cmdb.Invalid("token_url", "must be a URL")
	}
	if clientID == "" {
		return nil, cmdb.Invalid("client_id", "is required")
	}
	if secret.Reveal() == "" {
		return nil, cmdb.Invalid("client_secret", "is required")
	}
	cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret.Reveal(), TokenURL: tokenURL, Scopes: scopes}
	return redactingTokenSource{cc.TokenSource(ctx)}, nil
}

// redactingTokenSource drops the token endpoint's error body, which may
// echo request parameters, and keeps only the failing operation.
type redactingTokenSource struct{ ts oauth2.TokenSource }

func (r redactingTokenSource) Token() (*oauth2.Token, error) {
	t, err := r.ts.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("oauth2 token endpoint answered %s %s", re.Response.Status, re.ErrorCode)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue // names the endpoint and the network failure only
		}
		return nil, errors.New("oauth2 token request failed")
	}
	return t, nil
}
