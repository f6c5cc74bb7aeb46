package http

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// The OpenAPI document is checked against the code: the route table, the
// problem types and the Go types of the bodies. Each check returns the list
// of what differs, so that a failure names every wrong item; the test
// TestOpenAPIChecksCatchMistakes makes sure that each check can fail.

// oasParse reads an OpenAPI document into maps with string keys.
func oasParse(b []byte) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	m, ok := oasNorm(v).(map[string]any)
	if !ok {
		return nil, errors.New("the document is not a mapping")
	}
	return m, nil
}

// oasNorm turns every mapping into a map[string]any (YAML keys such as an
// unquoted 200 would otherwise be ints).
func oasNorm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = oasNorm(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = oasNorm(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = oasNorm(e)
		}
		return x
	}
	return v
}

func oasLoad(t *testing.T) map[string]any {
	t.Helper()
	doc, err := oasParse(OpenAPI())
	if err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	return doc
}

// oasGet follows keys through nested mappings.
func oasGet(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func oasSortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// oasStrings reads a YAML sequence of strings.
func oasStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("is %T, not a list", v)
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("item %d is %T, not a string", i, e)
		}
		out = append(out, s)
	}
	return out, nil
}

// oasDiff returns what is in want but not in got, and what is in got but not in want.
func oasDiff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

var oasMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oasPathItemKeys are the keys a path item may hold besides operations.
var oasPathItemKeys = []string{"$ref", "summary", "description", "servers", "parameters"}

// oasOperations returns the document's operations by "METHOD /path".
func oasOperations(doc map[string]any) (map[string]map[string]any, []string) {
	ops := map[string]map[string]any{}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return ops, []string{"the document has no paths mapping"}
	}
	var probs []string
	for _, path := range oasSortedKeys(paths) {
		item, ok := paths[path].(map[string]any)
		if !ok {
			probs = append(probs, fmt.Sprintf("path %s is not a mapping", path))
			continue
		}
		for _, k := range oasSortedKeys(item) {
			switch {
			case slices.Contains(oasMethods, k):
				op, ok := item[k].(map[string]any)
				if !ok {
					probs = append(probs, fmt.Sprintf("%s %s is not a mapping", strings.ToUpper(k), path))
					continue
				}
				ops[strings.ToUpper(k)+" "+path] = op
			case slices.Contains(oasPathItemKeys, k), strings.HasPrefix(k, "x-"):
			default:
				probs = append(probs, fmt.Sprintf("path %s has key %q, which is no operation (methods are lower case)", path, k))
			}
		}
	}
	return ops, probs
}

// oasRouteRoles returns the roles of every route the server serves, by
// "METHOD /path": the route table plus /metrics, which is public.
func oasRouteRoles(routes []Route) map[string][]string {
	roles := map[string][]string{"GET /metrics": nil}
	for _, rt := range routes {
		roles[rt.Method+" "+rt.Pattern] = rt.Roles()
	}
	return roles
}

// oasCheckOperations compares the document's operations with the routes.
func oasCheckOperations(doc map[string]any, routes []Route) []string {
	ops, probs := oasOperations(doc)
	missing, extra := oasDiff(oasSortedKeys(oasRouteRoles(routes)), oasSortedKeys(ops))
	for _, k := range missing {
		probs = append(probs, fmt.Sprintf("route %s is not documented", k))
	}
	for _, k := range extra {
		probs = append(probs, fmt.Sprintf("operation %s is documented but no route serves it", k))
	}
	return probs
}

// oasCheckRoles compares each operation's x-roles, security and description
// with the roles of its route.
func oasCheckRoles(doc map[string]any, routes []Route) []string {
	var probs []string
	global, _ := oasGet(doc, "security")
	if !oasHasBearer(global) {
		probs = append(probs, "the document's security does not require bearerAuth")
	}
	if typ, _ := oasGet(doc, "components", "securitySchemes", "bearerAuth", "type"); typ != "http" {
		probs = append(probs, fmt.Sprintf("securitySchemes.bearerAuth.type is %v, not http", typ))
	}
	if scheme, _ := oasGet(doc, "components", "securitySchemes", "bearerAuth", "scheme"); scheme != "bearer" {
		probs = append(probs, fmt.Sprintf("securitySchemes.bearerAuth.scheme is %v, not bearer", scheme))
	}
	ops, _ := oasOperations(doc)
	roles := oasRouteRoles(routes)
	for _, key := range oasSortedKeys(roles) {
		op, ok := ops[key]
		if !ok {
			continue // reported by oasCheckOperations
		}
		want := slices.Clone(roles[key])
		if want == nil {
			want = []string{}
		}
		raw, ok := op["x-roles"]
		if !ok {
			probs = append(probs, fmt.Sprintf("%s has no x-roles; the route table says %v", key, want))
			continue
		}
		got, err := oasStrings(raw)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: x-roles %v", key, err))
			continue
		}
		if a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)); !slices.Equal(a, b) {
			probs = append(probs, fmt.Sprintf("%s: x-roles is %v, the route table says %v", key, got, want))
		}
		desc, _ := op["description"].(string)
		sec, hasSec := op["security"]
		if len(want) == 0 {
			if list, ok := sec.([]any); !hasSec || !ok || len(list) != 0 {
				probs = append(probs, fmt.Sprintf("%s is public but does not set security: []", key))
			}
			if !strings.Contains(desc, "**Public:**") {
				probs = append(probs, fmt.Sprintf("%s is public but its description does not say **Public:**", key))
			}
			continue
		}
		if hasSec && !oasHasBearer(sec) {
			probs = append(probs, fmt.Sprintf("%s needs a key (%v) but its security does not require bearerAuth", key, want))
		}
		if line := "**Roles:** " + strings.Join(want, ", ") + "."; !strings.Contains(desc, line) {
			probs = append(probs, fmt.Sprintf("%s: the description does not say %q", key, line))
		}
		if _, ok := oasGet(op, "responses", "401"); !ok {
			probs = append(probs, fmt.Sprintf("%s needs a key but documents no 401", key))
		}
		if _, ok := oasGet(op, "responses", "403"); !ok {
			probs = append(probs, fmt.Sprintf("%s needs a key but documents no 403", key))
		}
	}
	return probs
}

// oasHasBearer reports whether a security requirement list names bearerAuth.
func oasHasBearer(sec any) bool {
	list, ok := sec.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if _, ok := m["bearerAuth"]; ok {
				return true
			}
		}
	}
	return false
}

// oasSections splits a Markdown file into its "## " sections by heading.
func oasSections(md string) map[string]string {
	sections := map[string]string{}
	var cur string
	var body strings.Builder
	flush := func() {
		if cur != "" {
			sections[cur] += body.String()
		}
		body.Reset()
	}
	for line := range strings.Lines(md) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			flush()
			cur = strings.TrimSpace(h)
			if _, dup := sections[cur]; dup {
				sections[cur] += "\n(duplicate heading)\n"
			} else {
				sections[cur] = ""
			}
			continue
		}
		body.WriteString(line)
	}
	flush()
	return sections
}

func oasCodes() []string {
	var codes []string
	for c := range statuses {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	return codes
}

// oasCheckProblemTypes compares the document's problem types and
// docs/problems.md with the statuses and titles of problem.go.
func oasCheckProblemTypes(doc map[string]any, problemsMD string) []string {
	var probs []string
	codes := oasCodes()
	list, ok := doc["x-problem-types"].([]any)
	if !ok {
		probs = append(probs, "the document has no x-problem-types list")
	}
	listed := map[string]map[string]any{}
	for i, e := range list {
		m, ok := e.(map[string]any)
		code, _ := m["code"].(string)
		if !ok || code == "" {
			probs = append(probs, fmt.Sprintf("x-problem-types[%d] has no code", i))
			continue
		}
		if _, dup := listed[code]; dup {
			probs = append(probs, fmt.Sprintf("x-problem-types lists %s twice", code))
		}
		listed[code] = m
	}
	for _, code := range codes {
		c := kopilka.Code(code)
		m, ok := listed[code]
		if !ok {
			probs = append(probs, fmt.Sprintf("problem type %s (status %d) is not in x-problem-types", code, statuses[c]))
			continue
		}
		if st, _ := m["status"].(int); st != statuses[c] {
			probs = append(probs, fmt.Sprintf("x-problem-types: %s has status %v, statuses says %d", code, m["status"], statuses[c]))
		}
		if ti, _ := m["title"].(string); ti != titles[c] {
			probs = append(probs, fmt.Sprintf("x-problem-types: %s has title %q, titles says %q", code, m["title"], titles[c]))
		}
		if ty, _ := m["type"].(string); ty != ProblemTypeBase+code {
			probs = append(probs, fmt.Sprintf("x-problem-types: %s has type %v, want %s", code, m["type"], ProblemTypeBase+code))
		}
	}
	for _, code := range oasSortedKeys(listed) {
		if _, ok := statuses[kopilka.Code(code)]; !ok {
			probs = append(probs, fmt.Sprintf("x-problem-types lists %s, which is no code in statuses", code))
		}
	}

	raw, _ := oasGet(doc, "components", "schemas", "ProblemCode", "enum")
	enum, err := oasStrings(raw)
	if err != nil {
		probs = append(probs, fmt.Sprintf("components.schemas.ProblemCode.enum %v", err))
	}
	missing, extra := oasDiff(codes, enum)
	for _, c := range missing {
		probs = append(probs, fmt.Sprintf("ProblemCode.enum lacks %s", c))
	}
	for _, c := range extra {
		probs = append(probs, fmt.Sprintf("ProblemCode.enum has %s, which is no code in statuses", c))
	}

	sections := oasSections(problemsMD)
	for _, code := range codes {
		body, ok := sections[code]
		if !ok {
			probs = append(probs, fmt.Sprintf("docs/problems.md has no heading \"## %s\"", code))
			continue
		}
		if want := fmt.Sprintf("**Status:** %d ", statuses[kopilka.Code(code)]); !strings.Contains(body, want) {
			probs = append(probs, fmt.Sprintf("docs/problems.md: section %s does not say %q", code, want))
		}
		if strings.Contains(body, "(duplicate heading)") {
			probs = append(probs, fmt.Sprintf("docs/problems.md has the heading %s twice", code))
		}
	}
	for _, h := range oasSortedKeys(sections) {
		if _, ok := statuses[kopilka.Code(h)]; !ok {
			probs = append(probs, fmt.Sprintf("docs/problems.md has a section %q, which is no problem code", h))
		}
	}
	return probs
}

// oasResolve follows a local JSON pointer ("#/components/schemas/Quote").
func oasResolve(doc map[string]any, ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, errors.New("is not a reference into this document")
	}
	var cur any = doc
	for _, tok := range strings.Split(frag, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("has no %q", tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("has no item %q", tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot look up %q in a %T", tok, cur)
		}
	}
	if _, ok := cur.(map[string]any); !ok {
		return nil, fmt.Errorf("points to a %T, not an object", cur)
	}
	return cur, nil
}

// oasCheckRefs resolves every $ref; it returns how many there are.
func oasCheckRefs(doc map[string]any) (int, []string) {
	n := 0
	var probs []string
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"]; ok {
				n++
				if s, ok := r.(string); !ok {
					probs = append(probs, fmt.Sprintf("%s: $ref is %T, not a string", at, r))
				} else if _, err := oasResolve(doc, s); err != nil {
					probs = append(probs, fmt.Sprintf("%s: $ref %q %v", at, s, err))
				}
			}
			for _, k := range oasSortedKeys(x) {
				walk(x[k], at+"/"+k)
			}
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
	return n, probs
}

var oasPathParam = regexp.MustCompile(`\{([^}]+)\}`)

// oasCheckPathParams checks that each operation declares exactly the
// parameters in its path, as required path parameters.
func oasCheckPathParams(doc map[string]any) []string {
	var probs []string
	paths, _ := doc["paths"].(map[string]any)
	params := func(v any) []map[string]any {
		list, _ := v.([]any)
		var out []map[string]any
		for _, e := range list {
			m, _ := e.(map[string]any)
			if r, ok := m["$ref"].(string); ok {
				if t, err := oasResolve(doc, r); err == nil {
					m, _ = t.(map[string]any)
				}
			}
			if m != nil {
				out = append(out, m)
			}
		}
		return out
	}
	for _, path := range oasSortedKeys(paths) {
		item, _ := paths[path].(map[string]any)
		var want []string
		for _, m := range oasPathParam.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		for _, method := range oasMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			var got []string
			for _, p := range append(params(item["parameters"]), params(op["parameters"])...) {
				if p["in"] != "path" {
					continue
				}
				name, _ := p["name"].(string)
				got = append(got, name)
				if p["required"] != true {
					probs = append(probs, fmt.Sprintf("%s %s: path parameter %s is not required: true", strings.ToUpper(method), path, name))
				}
			}
			missing, extra := oasDiff(want, got)
			for _, n := range missing {
				probs = append(probs, fmt.Sprintf("%s %s: path parameter {%s} is not declared", strings.ToUpper(method), path, n))
			}
			for _, n := range extra {
				probs = append(probs, fmt.Sprintf("%s %s: declares path parameter %s, which the path lacks", strings.ToUpper(method), path, n))
			}
		}
	}
	return probs
}

// oasJSONFields returns the JSON names of a struct's fields and which of
// them are always written (no omitempty).
func oasJSONFields(t reflect.Type) (names, always []string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			n, a := oasJSONFields(f.Type)
			names, always = append(names, n...), append(always, a...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			always = append(always, name)
		}
	}
	return names, always
}

// oasSchemaTypes ties the document's schemas to the Go types on the wire.
// A response schema's required members are exactly the fields always
// written; a request schema refuses unknown members, as decode does.
var oasSchemaTypes = []struct {
	schema   string
	typ      reflect.Type
	response bool
	request  bool
	extra    []string // members written outside the struct
}{
	{schema: "Programme", typ: reflect.TypeFor[kopilka.Programme](), response: true},
	{schema: "ProgrammeUpdate", typ: reflect.TypeFor[programmeJSON](), request: true},
	{schema: "Member", typ: reflect.TypeFor[kopilka.Member](), response: true},
	{schema: "NewMember", typ: reflect.TypeFor[memberJSON](), request: true},
	{schema: "MemberPatch", typ: reflect.TypeFor[kopilka.MemberPatch](), request: true},
	{schema: "Consents", typ: reflect.TypeFor[kopilka.Consents]()},
	{schema: "Card", typ: reflect.TypeFor[kopilka.Card](), response: true},
	{schema: "NewCard", typ: reflect.TypeFor[cardJSON](), request: true},
	{schema: "Balance", typ: reflect.TypeFor[kopilka.Balance](), response: true},
	{schema: "BalanceView", typ: reflect.TypeFor[kopilka.BalanceView](), response: true},
	{schema: "Expiring", typ: reflect.TypeFor[kopilka.Expiring](), response: true},
	{schema: "Transaction", typ: reflect.TypeFor[kopilka.Transaction](), response: true},
	{schema: "Adjustment", typ: reflect.TypeFor[kopilka.Adjustment](), request: true},
	{schema: "Receipt", typ: reflect.TypeFor[receiptJSON](), request: true},
	{schema: "Line", typ: reflect.TypeFor[lineJSON](), request: true},
	{schema: "Quote", typ: reflect.TypeFor[kopilka.Quote](), response: true},
	{schema: "QuoteLine", typ: reflect.TypeFor[kopilka.QuoteLine](), response: true},
	{schema: "RefundRequest", typ: reflect.TypeFor[refundJSON](), request: true},
	{schema: "RefundLine", typ: reflect.TypeFor[refundJSON]().Field(1).Type.Elem(), request: true},
	{schema: "RefundResult", typ: reflect.TypeFor[kopilka.RefundResult](), response: true},
	{schema: "RefundResultLine", typ: reflect.TypeFor[kopilka.RefundResultLine](), response: true},
	{schema: "APIKey", typ: reflect.TypeFor[kopilka.APIKey](), response: true},
	{schema: "Partner", typ: reflect.TypeFor[kopilka.Partner](), response: true},
	{schema: "Operator", typ: reflect.TypeFor[kopilka.Operator](), response: true},
	{schema: "OperatorInput", typ: reflect.TypeFor[access.OperatorInput](), request: true},
	{schema: "AuditEntry", typ: reflect.TypeFor[kopilka.AuditEntry](), response: true},
	{schema: "PartnerUpdate", typ: reflect.TypeFor[partnerJSON](), request: true},
	{schema: "Store", typ: reflect.TypeFor[kopilka.Store](), response: true},
	{schema: "StoreUpdate", typ: reflect.TypeFor[storeJSON](), request: true},
	{schema: "OpeningHours", typ: reflect.TypeFor[kopilka.OpeningHours]()},
	{schema: "Statement", typ: reflect.TypeFor[kopilka.Statement](), response: true},
	{schema: "PartnerEntry", typ: reflect.TypeFor[kopilka.PartnerEntry](), response: true},
	{schema: "FieldError", typ: reflect.TypeFor[kopilka.FieldError](), response: true},
	{schema: "Problem", typ: reflect.TypeFor[Problem](), response: true, extra: []string{"max_spend", "available", "earned_reversed", "max_receipt_points", "max_balance"}},
}

// oasCheckSchemas compares schemas' members with the Go types' JSON fields.
func oasCheckSchemas(doc map[string]any) []string {
	var probs []string
	for _, st := range oasSchemaTypes {
		schema, ok := oasGet(doc, "components", "schemas", st.schema)
		if !ok {
			probs = append(probs, fmt.Sprintf("schema %s is missing", st.schema))
			continue
		}
		props, _ := oasGet(schema, "properties")
		pm, _ := props.(map[string]any)
		names, always := oasJSONFields(st.typ)
		missing, extra := oasDiff(append(names, st.extra...), oasSortedKeys(pm))
		for _, n := range missing {
			probs = append(probs, fmt.Sprintf("schema %s lacks %s, a JSON field of %v", st.schema, n, st.typ))
		}
		for _, n := range extra {
			probs = append(probs, fmt.Sprintf("schema %s has %s, which %v does not have", st.schema, n, st.typ))
		}
		var required []string
		if raw, ok := oasGet(schema, "required"); ok {
			var err error
			if required, err = oasStrings(raw); err != nil {
				probs = append(probs, fmt.Sprintf("schema %s: required %v", st.schema, err))
			}
		}
		for _, r := range required {
			if _, ok := pm[r]; !ok {
				probs = append(probs, fmt.Sprintf("schema %s requires %s, which it does not define", st.schema, r))
			}
		}
		if st.response {
			missing, extra := oasDiff(always, required)
			for _, n := range missing {
				probs = append(probs, fmt.Sprintf("schema %s: %s is always written but not required", st.schema, n))
			}
			for _, n := range extra {
				probs = append(probs, fmt.Sprintf("schema %s: %s is required but may be left out (omitempty)", st.schema, n))
			}
		}
		if ap, _ := oasGet(schema, "additionalProperties"); st.request && ap != false {
			probs = append(probs, fmt.Sprintf("schema %s: the request refuses unknown fields, so it needs additionalProperties: false", st.schema))
		}
	}
	return probs
}

// oasErrorCodes returns the Code constants declared in ../error.go.
func oasErrorCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "error.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		isCode := false
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if vs.Type != nil {
				id, ok := vs.Type.(*ast.Ident)
				isCode = ok && id.Name == "Code"
			}
			if !isCode {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("error.go: a Code constant is not a string literal: %T", v)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, s)
			}
		}
	}
	return codes
}

func oasReport(t *testing.T, what string, probs []string) {
	t.Helper()
	for _, p := range probs {
		t.Error(p)
	}
	if len(probs) > 0 {
		t.Logf("%s: %d problem(s)", what, len(probs))
	}
}

func TestOpenAPIOperations(t *testing.T) {
	doc := oasLoad(t)
	if v, _ := doc["openapi"].(string); v != "3.0.3" {
		t.Errorf("openapi is %q, want 3.0.3", v)
	}
	routes := (&Server{}).Routes()
	if len(routes) == 0 {
		t.Fatal("the route table is empty")
	}
	oasReport(t, "operations", oasCheckOperations(doc, routes))
	oasReport(t, "path parameters", oasCheckPathParams(doc))
}

func TestOpenAPIRoles(t *testing.T) {
	oasReport(t, "roles", oasCheckRoles(oasLoad(t), (&Server{}).Routes()))
}

func TestOpenAPIProblemTypes(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "docs", "problems.md"))
	if err != nil {
		t.Fatal(err)
	}
	oasReport(t, "problem types", oasCheckProblemTypes(oasLoad(t), string(md)))

	// Every code of error.go has a status and a title, and nothing else does.
	declared := oasErrorCodes(t)
	if len(declared) == 0 {
		t.Fatal("found no Code constants in error.go")
	}
	missing, extra := oasDiff(declared, oasCodes())
	for _, c := range missing {
		t.Errorf("code %s of error.go has no HTTP status in statuses", c)
	}
	for _, c := range extra {
		t.Errorf("statuses maps %s, which is no Code constant of error.go", c)
	}
	for _, c := range declared {
		if titles[kopilka.Code(c)] == "" {
			t.Errorf("code %s of error.go has no title in titles", c)
		}
	}
}

func TestOpenAPIRefs(t *testing.T) {
	n, probs := oasCheckRefs(oasLoad(t))
	if n == 0 {
		t.Error("found no $ref at all; the walk is broken")
	}
	oasReport(t, "refs", probs)
}

func TestOpenAPISchemas(t *testing.T) {
	oasReport(t, "schemas", oasCheckSchemas(oasLoad(t)))
}

func TestOpenAPIServed(t *testing.T) {
	w := httptest.NewRecorder()
	if err := (&Server{}).openapi(w, httptest.NewRequest("GET", "/openapi.yaml", nil)); err != nil {
		t.Fatal(err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type is %q", ct)
	}
	if w.Body.String() != string(OpenAPI()) || w.Body.Len() < 1000 {
		t.Errorf("GET /openapi.yaml does not serve the embedded document (%d bytes)", w.Body.Len())
	}
}

// TestOpenAPIChecksCatchMistakes breaks a copy of the document and of
// docs/problems.md in known ways and expects each check to name the fault.
func TestOpenAPIChecksCatchMistakes(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "docs", "problems.md"))
	if err != nil {
		t.Fatal(err)
	}
	routes := (&Server{}).Routes()
	expect := func(name string, probs []string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !slices.ContainsFunc(probs, func(p string) bool { return strings.Contains(p, w) }) {
				t.Errorf("%s: no problem mentions %q; got %q", name, w, probs)
			}
		}
	}
	// at returns the mapping at keys, failing the test when there is none.
	at := func(doc map[string]any, keys ...string) map[string]any {
		t.Helper()
		v, _ := oasGet(doc, keys...)
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("the document has no mapping at %v to break", keys)
		}
		return m
	}

	doc := oasLoad(t)
	delete(at(doc, "paths", "/v1/keys/{id}"), "delete")
	at(doc, "paths")["/v1/nothing"] = map[string]any{"get": map[string]any{}}
	at(doc, "paths", "/v1/programme")["GET"] = map[string]any{}
	expect("operations", oasCheckOperations(doc, routes), "DELETE /v1/keys/{id}", "GET /v1/nothing", `"GET"`)

	doc = oasLoad(t)
	at(doc, "paths", "/v1/members/{id}/balance", "get")["x-roles"] = []any{"admin"}
	delete(at(doc, "paths", "/healthz", "get"), "security")
	delete(at(doc, "paths", "/metrics", "get"), "x-roles")
	at(doc, "paths", "/v1/keys", "get")["description"] = "**Roles:** admin, pos."
	expect("roles", oasCheckRoles(doc, routes),
		"GET /v1/members/{id}/balance: x-roles is [admin]", "GET /healthz is public", "GET /metrics has no x-roles",
		"GET /v1/keys: the description")

	doc = oasLoad(t)
	types, ok := doc["x-problem-types"].([]any)
	if !ok {
		t.Fatal("the document has no x-problem-types to break")
	}
	doc["x-problem-types"] = slices.DeleteFunc(types, func(e any) bool {
		m, _ := e.(map[string]any)
		return m["code"] == "unknown-card"
	})
	for _, e := range doc["x-problem-types"].([]any) {
		if m, _ := e.(map[string]any); m["code"] == "forbidden" {
			m["status"] = 400
		}
	}
	brokenMD := strings.Replace(string(md), "## blocked-card\n", "## blocked-cards\n", 1)
	expect("problem types", oasCheckProblemTypes(doc, brokenMD),
		"problem type unknown-card", "forbidden has status 400", `no heading "## blocked-card"`, `"blocked-cards"`)

	doc = oasLoad(t)
	at(doc, "paths", "/v1/programme", "get", "responses")["418"] = map[string]any{"$ref": "#/components/responses/Teapot"}
	_, probs := oasCheckRefs(doc)
	expect("refs", probs, "#/components/responses/Teapot")

	doc = oasLoad(t)
	at(doc, "paths", "/v1/cards/{number}")["parameters"] = []any{map[string]any{"$ref": "#/components/parameters/MemberID"}}
	expect("path parameters", oasCheckPathParams(doc), "path parameter {number} is not declared", "declares path parameter id")

	doc = oasLoad(t)
	quote := at(doc, "components", "schemas", "Quote", "properties")
	delete(quote, "max_spend")
	quote["discount"] = map[string]any{"type": "integer"}
	delete(at(doc, "components", "schemas", "Receipt"), "additionalProperties")
	expect("schemas", oasCheckSchemas(doc), "Quote lacks max_spend", "Quote has discount", "Quote requires max_spend",
		"Receipt: the request refuses unknown fields")
}

// The document is generated: openapi.yaml must be what `go generate ./http`
// makes of the route table, the Go types and the prose today.
func TestOpenAPIGenerated(t *testing.T) {
	prose, err := os.ReadFile("openapi.prose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := GenerateOpenAPI(prose)
	if err != nil {
		t.Fatal(err)
	}
	served := openAPI
	if i := bytes.Index(served, []byte("\nopenapi: ")); i >= 0 {
		served = served[i+1:]
	}
	if !bytes.Equal(doc, served) {
		t.Fatal("http/openapi.yaml is stale: run `go generate ./http` and commit the result")
	}
}

// A route without prose, prose of a route that does not exist, and prose
// that says another type than the Go type each stop the generator.
func TestOpenAPIGeneratorRefusesMistakes(t *testing.T) {
	prose, err := os.ReadFile("openapi.prose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var p yaml.Node
	if err := yaml.Unmarshal(prose, &p); err != nil {
		t.Fatal(err)
	}
	routes := append((&Server{}).Routes(), Route{Method: "GET", Pattern: "/v1/new", Summary: "New", Action: access.KeysList})
	if err := checkProse(p.Content[0], routes); err == nil || !strings.Contains(err.Error(), "GET /v1/new has no description") {
		t.Errorf("a route without prose: %v", err)
	}
	if err := checkProse(p.Content[0], routes[1:len(routes)-1]); err == nil || !strings.Contains(err.Error(), "which is not a route") {
		t.Errorf("prose of a route that is gone: %v", err)
	}
	if _, _, err := generate(append((&Server{}).Routes(), Route{Method: "GET", Pattern: "/v1/new"})); err == nil {
		t.Error("a route without a summary was generated")
	}
	if _, _, err := generate(append((&Server{}).Routes(), Route{Method: "GET", Pattern: "/v1/things/{id}", Summary: "x"})); err == nil {
		t.Error("a path parameter without a component was generated")
	}
	for _, c := range []struct{ what, old, new, says string }{
		{"requires a member the Go type does not write", "    Member:\n", "    Member:\n      required: [nobody]\n", "Member/required"},
		{"makes a route public", "  /v1/members/{id}:\n    get:\n", "  /v1/members/{id}:\n    get:\n      security: []\n", "security comes from the route table"},
		{"invents a member", "    Store:\n", "    Store:\n      properties:\n        invented:\n          type: string\n", "member invented is not in its Go type"},
		{"sets additionalProperties", "    Store:\n", "    Store:\n      additionalProperties: false\n", "additionalProperties comes from the Go types"},
		{"adds a success status", "  /v1/members/{id}/block:\n    post:\n", "  /v1/members/{id}/block:\n    post:\n      responses:\n        '201':\n          description: x\n", "answers 201"},
		{"adds a request body", "  /v1/members/{id}/block:\n    post:\n", "  /v1/members/{id}/block:\n    post:\n      requestBody:\n        description: x\n", "a request body the route does not take"},
		{"makes an integer a time", "        total:\n", "        total:\n          $ref: '#/components/schemas/Timestamp'\n", "the Go type is integer"},
	} {
		wrong := strings.Replace(string(prose), c.old, c.new, 1)
		if wrong == string(prose) {
			t.Fatalf("%s: the prose has no %q", c.what, c.old)
		}
		if _, err := GenerateOpenAPI([]byte(wrong)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("prose that %s: %v", c.what, err)
		}
	}
}
