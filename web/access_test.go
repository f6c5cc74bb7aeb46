package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
)

// An administrator creates a till's key, sees its secret once, the till
// uses it, and revoking it stops it at once; adds an operator and changes
// their role.
func TestOffice_AdminKeysAndOperators(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	b := newBrowser(t, s.url)
	b.open("/office/keys")
	b.signIn("anna@example.com")
	b.waitPath(`^/office/keys$`)
	b.fill("#key-name", "till 1")
	b.fill("#key-partner", "shop")
	b.runSelect("#key-role", kopilka.RolePOS)
	b.click("#key-create", `^/office/keys$`)
	secret := b.text("#key-secret")
	if !strings.HasPrefix(secret, kopilka.KeyPrefix) {
		t.Fatalf("the new key's secret: %q", secret)
	}
	b.screenshot("office-keys")
	whoami := func() int {
		req, _ := http.NewRequest("GET", s.url+"/v1/auth/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := whoami(); code != 200 {
		t.Fatalf("the new key: %d", code)
	}
	b.open("/office/keys")
	if strings.Contains(b.text("main"), secret) {
		t.Fatal("the secret is shown again")
	}
	b.click(`#key-list form[action$="/revoke"] button`, `done=key-revoked`)
	if code := whoami(); code != 401 {
		t.Fatalf("the revoked key still answers %d", code)
	}

	b.click(`header a[href="/office/operators"]`, `^/office/operators$`)
	b.fill("#op-email", "vera@example.com")
	b.fill("#op-name", "Vera")
	b.runSelect("#op-role", kopilka.RoleSupport)
	b.fill("#op-password", "correct horse battery")
	b.click("#op-create", `done=operator-added`)
	b.contains("#operator-list", "vera@example.com", "support")
	b.screenshot("office-operators")
	// The same address again: the server's refusal, naming the field, on the page.
	b.fill("#op-email", "vera@example.com")
	b.fill("#op-password", "correct horse battery")
	b.click("#op-create", `^/office/operators$`)
	b.contains("main .error", "email")
	ops, err := s.svc.Access.Operators(ctx)
	if err != nil || len(ops) != 2 {
		t.Fatalf("operators %+v %v", ops, err)
	}
}
