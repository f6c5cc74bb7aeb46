package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/kopilka/kopilka/cases"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kopilka/kopilka"
)

// The API document (openapi.yaml) is made, not written: `go generate
// ./http` runs GenerateOpenAPI over the route table and the Go types, and
// merges in the hand-kept prose of openapi.prose.yaml. The route table
// gives each operation's path, method, summary, roles (from the policy),
// security, path parameters, request and answer schemas and the standard
// problem answers; the Go types give every schema's members, their types,
// which are always written (required) and which requests refuse unknown
// members. The prose gives the words: descriptions, examples, the query
// parameters, the problems an operation answers beside the standard ones,
// and the constraints a Go type cannot say (patterns, enums, limits).
//
// The merge refuses prose that contradicts what is generated, and prose of
// a route that does not exist; TestOpenAPIGenerated fails when openapi.yaml
// is not what the generator makes, or when a route has no prose.

//go:generate go run ./internal/openapigen

// pathParameters names the component of each path parameter, by the
// pattern's prefix; a new path parameter needs its line here and its
// component in the prose.
var pathParameters = []struct{ prefix, param, component string }{
	{"/v1/programme/rules/", "id", "RuleID"},
	{"/v1/programme/campaigns/", "id", "CampaignID"},
	{"/v1/members/", "id", "MemberID"},
	{"/v1/cards/", "number", "CardNumber"},
	{"/v1/purchases/", "id", "ReceiptID"},
	{"/v1/partners/", "id", "PartnerID"},
	{"/v1/partners/", "period", "Period"},
	{"/v1/stores/", "id", "StoreID"},
	{"/v1/operators/", "id", "OperatorID"},
	{"/v1/keys/", "id", "KeyID"},
	{"/v1/cases/", "id", "CaseID"},
	{"/v1/surveys/", "id", "SurveyID"},
	{"/v1/imports/", "id", "ImportID"},
	{"/v1/me/surveys/", "id", "InvitationID"},
}

// schemaNames names the schemas of the wire types whose Go names are not
// the API's; other named types keep their Go name.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[programmeJSON]():       "ProgrammeUpdate",
	reflect.TypeFor[programmeDocument]():   "ProgrammeDocument",
	reflect.TypeFor[programmeImport]():     "ProgrammeDocumentInput",
	reflect.TypeFor[memberJSON]():          "NewMember",
	reflect.TypeFor[cardJSON]():            "NewCard",
	reflect.TypeFor[categoriesJSON]():      "CategoryChoice",
	reflect.TypeFor[cardReplacementJSON](): "CardReplacement",
	reflect.TypeFor[receiptJSON]():         "Receipt",
	reflect.TypeFor[lineJSON]():            "Line",
	reflect.TypeFor[refundJSON]():          "RefundRequest",
	reflect.TypeFor[refundLineJSON]():      "RefundLine",
	reflect.TypeFor[partnerJSON]():         "PartnerUpdate",
	reflect.TypeFor[partnerRatesJSON]():    "PartnerRates",
	reflect.TypeFor[settlementJSON]():      "SettlementRequest",
	reflect.TypeFor[storeJSON]():           "StoreUpdate",
	reflect.TypeFor[loginJSON]():           "Login",
	reflect.TypeFor[codeRequestJSON]():     "CodeRequest",
	reflect.TypeFor[codeJSON]():            "CodeVerification",
	reflect.TypeFor[newKeyJSON]():          "NewAPIKey",
	reflect.TypeFor[healthJSON]():          "Health",
	reflect.TypeFor[readyJSON]():           "Ready",
	reflect.TypeFor[ruleList]():            "RuleList",
	reflect.TypeFor[campaignList]():        "CampaignList",
	reflect.TypeFor[transactionPage]():     "TransactionPage",
	reflect.TypeFor[partnerList]():         "PartnerList",
	reflect.TypeFor[storePage]():           "StorePage",
	reflect.TypeFor[nearbyList]():          "NearbyStoreList",
	reflect.TypeFor[apiKeyList]():          "APIKeyList",
	reflect.TypeFor[operatorList]():        "OperatorList",
	reflect.TypeFor[auditPage]():           "AuditPage",
	reflect.TypeFor[operatorSession]():     "OperatorSession",
	reflect.TypeFor[memberSession]():       "MemberSession",
	reflect.TypeFor[codeSent]():            "CodeSent",
	reflect.TypeFor[whoamiJSON]():          "Whoami",
	reflect.TypeFor[settlementList]():      "SettlementList",
	reflect.TypeFor[cases.Opening]():       "CaseOpening",
	reflect.TypeFor[cases.Note]():          "CaseNote",
	reflect.TypeFor[cases.Stats]():         "CaseStats",
	reflect.TypeFor[cases.Compensation]():  "CaseCompensation",
	reflect.TypeFor[casePage]():            "CasePage",
	reflect.TypeFor[caseText]():            "CaseNoteInput",
	reflect.TypeFor[caseResolution]():      "CaseResolution",
	reflect.TypeFor[caseReopening]():       "CaseReopening",
	reflect.TypeFor[caseCompensated]():     "CaseCompensated",
}

// scalarSchemas are Go types written as one of the prose's scalar schemas.
var scalarSchemas = map[reflect.Type]string{
	reflect.TypeFor[time.Time]():        "Timestamp",
	reflect.TypeFor[kopilka.Quantity](): "Quantity",
	reflect.TypeFor[kopilka.Percent]():  "Percent",
}

// extraAnswers and extraRequests are schemas no route names: the standard
// problem answers', and a receipt's line (the lines are read one by one,
// to name the line at fault).
var (
	extraAnswers  = []reflect.Type{reflect.TypeFor[Problem]()}
	extraRequests = []reflect.Type{reflect.TypeFor[lineJSON]()}
)

// GenerateOpenAPI returns the API document: the route table and the Go
// types merged with prose (the contents of openapi.prose.yaml).
func GenerateOpenAPI(prose []byte) ([]byte, error) {
	var p yaml.Node
	if err := yaml.Unmarshal(prose, &p); err != nil {
		return nil, fmt.Errorf("openapi.prose.yaml: %w", err)
	}
	if len(p.Content) != 1 || p.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("openapi.prose.yaml: not a mapping")
	}
	routes := (&Server{}).Routes()
	gen, inputs, err := generate(routes)
	if err != nil {
		return nil, err
	}
	if err := checkProse(p.Content[0], routes); err != nil {
		return nil, err
	}
	inputsFromAnswers(inputs, p.Content[0])
	if probs := overreach(gen, p.Content[0]); len(probs) > 0 {
		return nil, fmt.Errorf("openapi.prose.yaml says what the route table and the Go types say:\n  %s", strings.Join(probs, "\n  "))
	}
	m := merger{prose: p.Content[0], inputs: inputs}
	doc := m.merge(gen, p.Content[0], "")
	m.conflicts = append(m.conflicts, requiredMembers(doc)...)
	if len(m.conflicts) > 0 {
		return nil, fmt.Errorf("openapi.prose.yaml contradicts the route table or the Go types:\n  %s", strings.Join(m.conflicts, "\n  "))
	}
	addRoleLines(doc, routes)
	doc = ordered(doc, "openapi", "info", "servers", "security", "tags", "paths", "components")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// extraMembers are members an answer writes outside its Go type (a
// problem's Extra), which the prose alone describes.
var extraMembers = map[string][]string{"Problem": {"max_spend", "available", "earned_reversed", "max_receipt_points", "max_balance"}}

// inputsFromAnswers gives a request schema made from a type that answers
// use too (RuleInput) the prose of its answer schema (Rule), without what
// only an answer has: required members and an example.
func inputsFromAnswers(inputs map[string]string, prose *yaml.Node) {
	ps := get(get(prose, "components"), "schemas")
	if ps == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		base := inputs[name]
		if get(ps, base) == nil {
			continue
		}
		var c yaml.Node
		b, _ := yaml.Marshal(get(ps, base))
		_ = yaml.Unmarshal(b, &c)
		in := mapping()
		for j := 0; j+1 < len(c.Content[0].Content); j += 2 {
			k, v := c.Content[0].Content[j].Value, c.Content[0].Content[j+1]
			switch k {
			case "required", "example":
			case "allOf": // the request's schema is flat: the parts' members are its own
				for _, part := range v.Content {
					props := get(part, "properties")
					for x := 0; props != nil && x+1 < len(props.Content); x += 2 {
						if get(in, "properties") == nil {
							set(in, "properties", mapping())
						}
						set(get(in, "properties"), props.Content[x].Value, props.Content[x+1])
					}
				}
			default:
				set(in, k, v)
			}
		}
		// What the prose says of the request itself comes last, and wins.
		own := get(ps, name)
		for j := 0; own != nil && j+1 < len(own.Content); j += 2 {
			k, v := own.Content[j].Value, own.Content[j+1]
			if k == "properties" && get(in, k) != nil {
				for x := 0; x+1 < len(v.Content); x += 2 {
					set(get(in, k), v.Content[x].Value, v.Content[x+1])
				}
				continue
			}
			set(in, k, v)
		}
		set(ps, name, in)
	}
}

// overreach lists what the prose says that only the route table or the Go
// types may say: an operation's summary, roles or security, a request body
// or a success status the route does not have; a schema's
// additionalProperties, or a member its Go type does not have; an object
// schema of no Go type.
func overreach(gen, prose *yaml.Node) []string {
	var probs []string
	gp, pp := get(gen, "paths"), get(prose, "paths")
	for i := 0; pp != nil && i+1 < len(pp.Content); i += 2 {
		path, item := pp.Content[i].Value, pp.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			method, op := item.Content[j].Value, item.Content[j+1]
			gop := get(get(gp, path), method)
			for _, k := range []string{"summary", "x-roles", "security"} {
				if get(op, k) != nil {
					probs = append(probs, fmt.Sprintf("%s %s: %s comes from the route table", method, path, k))
				}
			}
			if get(op, "requestBody") != nil && get(gop, "requestBody") == nil {
				probs = append(probs, fmt.Sprintf("%s %s: a request body the route does not take", method, path))
			}
			rs := get(op, "responses")
			for k := 0; rs != nil && k+1 < len(rs.Content); k += 2 {
				if st := rs.Content[k].Value; strings.HasPrefix(st, "2") && get(get(gop, "responses"), st) == nil {
					probs = append(probs, fmt.Sprintf("%s %s: answers %s, which is not the route's success status", method, path, st))
				}
			}
		}
	}
	gs, ps := get(get(gen, "components"), "schemas"), get(get(prose, "components"), "schemas")
	for i := 0; ps != nil && i+1 < len(ps.Content); i += 2 {
		name, sch := ps.Content[i].Value, ps.Content[i+1]
		g := get(gs, name)
		if g == nil {
			if t := get(sch, "type"); t == nil || t.Value == "object" || get(sch, "properties") != nil {
				probs = append(probs, fmt.Sprintf("schema %s: an object of no Go type in the route table", name))
			}
			continue
		}
		var walk func(p, g *yaml.Node, at string)
		walk = func(p, g *yaml.Node, at string) {
			if get(p, "additionalProperties") != nil {
				probs = append(probs, fmt.Sprintf("schema %s: additionalProperties comes from the Go types", at))
			}
			props, have := get(p, "properties"), get(g, "properties")
			for k := 0; props != nil && k+1 < len(props.Content); k += 2 {
				if member := props.Content[k].Value; get(have, member) == nil && !slices.Contains(extraMembers[name], member) {
					probs = append(probs, fmt.Sprintf("schema %s: member %s is not in its Go type", at, member))
				}
			}
			pa, ga := get(p, "allOf"), get(g, "allOf")
			for k := 0; pa != nil && ga != nil && k < min(len(pa.Content), len(ga.Content)); k++ {
				walk(pa.Content[k], ga.Content[k], fmt.Sprintf("%s/allOf/%d", at, k))
			}
		}
		walk(sch, g, name)
	}
	return probs
}

// requiredMembers lists the object schemas that require a member they do
// not have.
func requiredMembers(doc *yaml.Node) []string {
	var probs []string
	schemas := get(get(doc, "components"), "schemas")
	var check func(n *yaml.Node, at string)
	check = func(n *yaml.Node, at string) {
		if r := get(n, "required"); r != nil {
			for _, m := range r.Content {
				if get(get(n, "properties"), m.Value) == nil {
					probs = append(probs, fmt.Sprintf("%s requires %s, which it does not have", at, m.Value))
				}
			}
		}
		for k, a := range seqOf(get(n, "allOf")) {
			check(a, fmt.Sprintf("%s/allOf/%d", at, k))
		}
	}
	for i := 0; schemas != nil && i+1 < len(schemas.Content); i += 2 {
		check(schemas.Content[i+1], schemas.Content[i].Value)
	}
	return probs
}

func seqOf(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// ordered returns the mapping with the keys first in this order.
func ordered(n *yaml.Node, first ...string) *yaml.Node {
	out := mapping()
	for _, k := range first {
		if v := get(n, k); v != nil {
			set(out, k, v)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if get(out, n.Content[i].Value) == nil {
			set(out, n.Content[i].Value, n.Content[i+1])
		}
	}
	return out
}

// checkProse refuses prose of an operation the route table does not have,
// and a route without its prose (a description).
func checkProse(prose *yaml.Node, routes []Route) error {
	var probs []string
	paths := get(prose, "paths")
	have := map[string]bool{}
	for _, rt := range routes {
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		have[key] = true
		op := get(get(paths, rt.Pattern), strings.ToLower(rt.Method))
		if d := get(op, "description"); d == nil || strings.TrimSpace(d.Value) == "" {
			probs = append(probs, fmt.Sprintf("%s %s has no description in the prose", rt.Method, rt.Pattern))
		}
	}
	if paths != nil {
		for i := 0; i+1 < len(paths.Content); i += 2 {
			path, ops := paths.Content[i].Value, paths.Content[i+1]
			for j := 0; j+1 < len(ops.Content); j += 2 {
				if m := ops.Content[j].Value; m != "parameters" && !have[m+" "+path] {
					probs = append(probs, fmt.Sprintf("the prose describes %s %s, which is not a route", strings.ToUpper(m), path))
				}
			}
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("openapi.prose.yaml:\n  %s", strings.Join(probs, "\n  "))
	}
	return nil
}

// addRoleLines starts each operation's description with who may call it.
func addRoleLines(doc *yaml.Node, routes []Route) {
	paths := get(doc, "paths")
	for _, rt := range routes {
		op := get(get(paths, rt.Pattern), strings.ToLower(rt.Method))
		line := "**Public:** no API key."
		if roles := rt.Roles(); len(roles) > 0 {
			line = "**Roles:** " + strings.Join(roles, ", ") + "."
		}
		d := get(op, "description")
		if d == nil {
			set(op, "description", str(line+"\n"))
			continue
		}
		d.Value = line + "\n\n" + strings.TrimLeft(d.Value, "\n")
		d.Style = yaml.LiteralStyle
	}
}

// generate makes the document's structure from the route table, and
// names the request schemas made from an answer's type (RuleInput: Rule).
func generate(routes []Route) (*yaml.Node, map[string]string, error) {
	doc := mapping()
	set(doc, "openapi", str("3.0.3"))
	set(doc, "security", seq(mapping("bearerAuth", seq())))
	paths := mapping()
	g := &schemaGen{schemas: mapping(), done: map[string]bool{}, response: map[reflect.Type]bool{}, request: map[reflect.Type]bool{}, inputs: map[string]string{}}
	for _, rt := range routes {
		if rt.Out != nil {
			g.mark(rt.Out, false)
		}
		if rt.In != nil {
			g.mark(rt.In, true)
		}
	}
	for _, t := range extraAnswers {
		g.mark(t, false)
	}
	for _, t := range extraRequests {
		g.mark(t, true)
	}
	for _, rt := range routes {
		item := get(paths, rt.Pattern)
		if item == nil {
			item = mapping()
			if params, err := pathParams(rt.Pattern); err != nil {
				return nil, nil, err
			} else if len(params.Content) > 0 {
				set(item, "parameters", params)
			}
			set(paths, rt.Pattern, item)
		}
		op := mapping()
		if rt.Summary == "" {
			return nil, nil, fmt.Errorf("%s %s has no summary in the route table", rt.Method, rt.Pattern)
		}
		set(op, "summary", str(rt.Summary))
		roles := rt.Roles()
		set(op, "x-roles", flowSeq(roles))
		if len(roles) == 0 {
			set(op, "security", seq())
		}
		if rt.In != nil {
			set(op, "requestBody", mapping("required", boolean(!rt.BodyOptional), "content",
				mapping("application/json", mapping("schema", g.ref(rt.In, true)))))
		}
		if rt.FileBody { // a file, as its own type: CSV or JSON lines
			set(op, "requestBody", mapping("required", boolean(true), "content",
				mapping("text/csv", mapping("schema", mapping("type", str("string"))),
					"application/x-ndjson", mapping("schema", mapping("type", str("string"))))))
		}
		responses := mapping()
		ok := mapping()
		if rt.Out != nil {
			set(ok, "content", mapping("application/json", mapping("schema", g.ref(rt.Out, false))))
		}
		set(responses, strconv.Itoa(rt.Status), ok)
		if len(roles) > 0 {
			set(responses, "401", mapping("$ref", str("#/components/responses/Unauthorized")))
			set(responses, "403", mapping("$ref", str("#/components/responses/Forbidden")))
		}
		if rt.Method != "GET" {
			set(responses, "413", mapping("$ref", str("#/components/responses/TooLarge")))
		}
		if len(roles) > 0 || rt.Method == "POST" {
			set(responses, "429", mapping("$ref", str("#/components/responses/RateLimited")))
		}
		if rt.Action != "" {
			set(responses, "500", mapping("$ref", str("#/components/responses/Internal")))
		}
		set(op, "responses", responses)
		set(item, strings.ToLower(rt.Method), op)
	}
	for _, t := range extraAnswers {
		g.ref(t, false)
	}
	for _, t := range extraRequests {
		g.ref(t, true)
	}
	if g.err != nil {
		return nil, nil, g.err
	}
	set(doc, "paths", paths)
	set(doc, "components", mapping(
		"securitySchemes", mapping("bearerAuth", mapping("type", str("http"), "scheme", str("bearer"))),
		"schemas", g.schemas))
	return doc, g.inputs, nil
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

func pathParams(pattern string) (*yaml.Node, error) {
	out := seq()
	for _, m := range pathParam.FindAllStringSubmatch(pattern, -1) {
		found := ""
		for _, p := range pathParameters {
			if strings.HasPrefix(pattern, p.prefix) && p.param == m[1] {
				found = p.component
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%s: path parameter {%s} has no component in pathParameters", pattern, m[1])
		}
		out.Content = append(out.Content, mapping("$ref", str("#/components/parameters/"+found)))
	}
	return out, nil
}

// schemaGen makes schemas from Go types. A type is read in requests, written
// in answers, or both; one used both ways has two schemas: its name for the
// answer (required: the members always written) and its name with "Input"
// for the request (no member required but those the prose names, unknown
// members refused).
type schemaGen struct {
	schemas  *yaml.Node
	done     map[string]bool
	response map[reflect.Type]bool // written in answers
	request  map[reflect.Type]bool // read in requests
	inputs   map[string]string     // request schema -> the answer schema of its type
	err      error
}

// mark marks t and the named types it holds as read (in) or written.
func (g *schemaGen) mark(t reflect.Type, in bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	seen := g.response
	if in {
		seen = g.request
	}
	if t.Kind() != reflect.Struct || seen[t] || scalarSchemas[t] != "" {
		return
	}
	seen[t] = true
	for _, f := range jsonFields(t) {
		g.mark(f.typ, in)
	}
}

func (g *schemaGen) name(t reflect.Type, in bool) string {
	n, ok := schemaNames[t]
	if !ok {
		n = t.Name()
	}
	if n != "" && in && g.response[t] {
		g.inputs[n+"Input"] = n
		n += "Input"
	}
	return n
}

// ref returns the schema of a value of type t, read in a request (in) or
// written in an answer, adding the schemas of the named struct types it
// holds to the components.
func (g *schemaGen) ref(t reflect.Type, in bool) *yaml.Node {
	if n, ok := scalarSchemas[t]; ok {
		return mapping("$ref", str("#/components/schemas/"+n))
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.ref(t.Elem(), in)
	case reflect.String:
		return mapping("type", str("string"))
	case reflect.Bool:
		return mapping("type", str("boolean"))
	case reflect.Int, reflect.Int32, reflect.Int16, reflect.Int8:
		return mapping("type", str("integer"))
	case reflect.Int64, reflect.Uint64:
		return mapping("type", str("integer"), "format", str("int64"))
	case reflect.Float64, reflect.Float32:
		return mapping("type", str("number"))
	case reflect.Slice:
		if t == reflect.TypeFor[json.RawMessage]() {
			return mapping()
		}
		return mapping("type", str("array"), "items", g.ref(t.Elem(), in))
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return mapping("type", str("object"))
		}
		return mapping("type", str("object"), "additionalProperties", g.ref(t.Elem(), in))
	case reflect.Interface:
		return mapping()
	case reflect.Struct:
		name := g.name(t, in)
		if name == "" {
			g.err = fmt.Errorf("an anonymous struct %v: give it a name, the document needs one", t)
			return mapping()
		}
		if !g.done[name] {
			g.done[name] = true
			set(g.schemas, name, g.object(t, in))
		}
		return mapping("$ref", str("#/components/schemas/"+name))
	}
	g.err = fmt.Errorf("no schema for Go type %v", t)
	return mapping()
}

// object is the schema of a struct: its JSON members; in an answer, the
// members always written are required; a request refuses members it does
// not know, as decode does.
func (g *schemaGen) object(t reflect.Type, in bool) *yaml.Node {
	// An answer that embeds a named struct whole is that schema and its own members.
	if !in && t.NumField() > 1 {
		f := t.Field(0)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && g.name(f.Type, in) != "" && f.Tag.Get("json") == "" &&
			!slices.ContainsFunc(jsonFields(f.Type), func(x jsonField) bool { return hides(t, x.name) }) {
			return mapping("allOf", seq(g.ref(f.Type, in), g.members(reflect.StructOf(fieldsAfter(t, 1)), in)))
		}
	}
	return g.members(t, in)
}

func (g *schemaGen) members(t reflect.Type, in bool) *yaml.Node {
	s := mapping("type", str("object"))
	props := mapping()
	var required []string
	for _, f := range jsonFields(t) {
		set(props, f.name, g.ref(f.typ, in))
		if !f.omitempty {
			required = append(required, f.name)
		}
	}
	if !in && len(required) > 0 {
		set(s, "required", flowSeq(required))
	}
	if len(props.Content) > 0 {
		set(s, "properties", props)
	}
	if in {
		set(s, "additionalProperties", boolean(false))
	}
	return s
}

// hides reports whether t declares a member named name itself.
func hides(t reflect.Type, name string) bool {
	for f := range t.Fields() {
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); !f.Anonymous && (n == name || n == "" && f.Name == name) {
			return true
		}
	}
	return false
}

// fieldsAfter returns t's fields from the i-th on.
func fieldsAfter(t reflect.Type, i int) []reflect.StructField {
	var out []reflect.StructField
	for j := i; j < t.NumField(); j++ {
		out = append(out, t.Field(j))
	}
	return out
}

type jsonField struct {
	name      string
	typ       reflect.Type
	omitempty bool
}

// jsonFields lists a struct's members as encoding/json writes them:
// embedded structs flattened, a shallower field hiding a deeper one of the
// same name, a field that can only be empty (a *struct{}) left out.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	hidden := map[string]bool{}
	for f := range t.Fields() {
		if tag := f.Tag.Get("json"); tag != "-" && f.IsExported() && !f.Anonymous {
			name, _, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			hidden[name] = true
		}
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for _, inner := range jsonFields(f.Type) {
				if !hidden[inner.name] {
					out = append(out, inner)
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.Type.Elem().NumField() == 0 {
			continue // it hides a member of an embedded struct
		}
		out = append(out, jsonField{name, f.Type, slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return out
}

// merger lays the prose over the generated structure.
type merger struct {
	prose     *yaml.Node        // the whole prose, for the shared answers it defines
	inputs    map[string]string // request schemas made from an answer's type
	conflicts []string
}

// merge returns gen with prose laid over it. Mappings join; where both
// give a scalar or a list, they must agree, except:
//   - a list of parameters: the prose's are added to the generated;
//   - a property or item whose generated schema the prose refines with a
//     $ref or allOf of its own (Points for an integer): the prose's, if it
//     is of the same type;
//   - a response the prose gives in full where the generated one is a $ref
//     to a standard answer: the prose's;
//   - a $ref with words beside it: written as allOf, as OpenAPI 3.0 needs.
func (m *merger) merge(gen, prose *yaml.Node, path string) *yaml.Node {
	switch {
	case prose == nil:
		return gen
	case gen == nil:
		return prose
	}
	if gen.Kind == yaml.MappingNode && prose.Kind == yaml.MappingNode {
		genRef, proseRef := get(gen, "$ref"), get(prose, "$ref")
		if genRef != nil && strings.Contains(genRef.Value, "/responses/") && proseRef == nil && get(prose, "description") != nil {
			return prose // a specialised standard answer
		}
		if genRef != nil && !strings.HasPrefix(genRef.Value, "#/components/responses/") && proseRef != nil &&
			strings.HasPrefix(proseRef.Value, "#/components/responses/") {
			m.conflicts = append(m.conflicts, fmt.Sprintf("%s: a $ref to a response where a schema is generated", path))
			return gen
		}
		if get(gen, "content") != nil && proseRef != nil && strings.HasPrefix(proseRef.Value, "#/components/responses/") {
			// A shared answer the prose describes once: it must carry the generated schema.
			name := strings.TrimPrefix(proseRef.Value, "#/components/responses/")
			want := get(get(get(gen, "content"), "application/json"), "schema")
			got := get(get(get(get(get(get(m.prose, "components"), "responses"), name), "content"), "application/json"), "schema")
			if got == nil || !same(got, want) {
				m.conflicts = append(m.conflicts, fmt.Sprintf("%s: the shared answer %s does not answer %s", path, name, text(want)))
				return gen
			}
			return prose
		}
		if get(gen, "allOf") != nil && (get(prose, "properties") != nil || get(prose, "additionalProperties") != nil) {
			m.conflicts = append(m.conflicts, fmt.Sprintf("%s: the schema is an allOf; describe its own members in allOf[1]", path))
			return gen
		}
		if genRef != nil {
			// Prose written of the answer's schema (Rule) where a request
			// refers to the schema of its type read (RuleInput): the words
			// stay, the reference is the generated one.
			name := strings.TrimPrefix(genRef.Value, "#/components/schemas/")
			if base, ok := m.inputs[name]; ok {
				answer := "#/components/schemas/" + base
				if proseRef != nil && proseRef.Value == answer {
					prose = mapping("$ref", genRef)
					proseRef = genRef
				} else if allOfRef(prose) == answer {
					set(get(prose, "allOf").Content[0], "$ref", genRef)
				}
			}
		}
		if proseRef != nil || get(prose, "allOf") != nil && get(gen, "allOf") == nil {
			switch {
			case len(gen.Content) == 0:
				return prose // a refinement of a value the Go type reads as any JSON
			case genRef == nil && scalarType(gen):
				ref := allOfRef(prose)
				if proseRef != nil {
					ref = proseRef.Value
				}
				named := get(get(get(m.prose, "components"), "schemas"), strings.TrimPrefix(ref, "#/components/schemas/"))
				if t := get(named, "type"); t == nil || t.Value != get(gen, "type").Value {
					m.conflicts = append(m.conflicts, fmt.Sprintf("%s: the Go type is %s, the prose's %s is not", path, get(gen, "type").Value, ref))
					return gen
				}
				return prose // a refinement of a generated scalar (Points for an integer)
			case genRef != nil && (proseRef != nil && proseRef.Value == genRef.Value || allOfRef(prose) == genRef.Value):
				return prose // the same schema, with words beside it
			case genRef != nil && proseRef == nil && allOfRef(prose) != "" && strings.HasPrefix(genRef.Value, "#/components/schemas/") && scalarSchemaRef(genRef.Value):
				return prose
			}
			m.conflicts = append(m.conflicts, fmt.Sprintf("%s: generated %s, the prose says %s", path, text(gen), text(prose)))
			return gen
		}
		out := mapping()
		for _, k := range []string{"summary", "description"} {
			if v := get(prose, k); v != nil && get(gen, k) == nil {
				set(out, k, v)
			}
		}
		for i := 0; i+1 < len(gen.Content); i += 2 {
			k := gen.Content[i].Value
			set(out, k, m.merge(gen.Content[i+1], get(prose, k), path+"/"+k))
		}
		for i := 0; i+1 < len(prose.Content); i += 2 {
			k := prose.Content[i].Value
			if get(out, k) == nil {
				set(out, k, prose.Content[i+1])
			}
		}
		if isRef(out) && len(out.Content) > 2 {
			ref := get(out, "$ref")
			rest := mapping("allOf", seq(mapping("$ref", ref)))
			for i := 0; i+1 < len(out.Content); i += 2 {
				if out.Content[i].Value != "$ref" {
					set(rest, out.Content[i].Value, out.Content[i+1])
				}
			}
			return rest
		}
		return out
	}
	if gen.Kind == yaml.SequenceNode && prose.Kind == yaml.SequenceNode && strings.HasSuffix(path, "/allOf") && len(gen.Content) == len(prose.Content) {
		out := seq()
		for i := range gen.Content {
			out.Content = append(out.Content, m.merge(gen.Content[i], prose.Content[i], fmt.Sprintf("%s/%d", path, i)))
		}
		return out
	}
	if gen.Kind == yaml.SequenceNode && prose.Kind == yaml.SequenceNode && strings.HasSuffix(path, "/parameters") {
		out := seq(gen.Content...)
		for _, p := range prose.Content {
			if !slices.ContainsFunc(gen.Content, func(g *yaml.Node) bool { return same(g, p) }) {
				out.Content = append(out.Content, p)
			}
		}
		return out
	}
	if !same(gen, prose) {
		m.conflicts = append(m.conflicts, fmt.Sprintf("%s: generated %s, the prose says %s", path, text(gen), text(prose)))
	}
	return gen
}

// scalarType reports a generated schema of a scalar type.
func scalarType(n *yaml.Node) bool {
	t := get(n, "type")
	return t != nil && t.Value != "object" && t.Value != "array"
}

// allOfRef is the $ref of an allOf of one schema, or "".
func allOfRef(n *yaml.Node) string {
	a := get(n, "allOf")
	if a == nil || len(a.Content) != 1 {
		return ""
	}
	if r := get(a.Content[0], "$ref"); r != nil {
		return r.Value
	}
	return ""
}

// scalarSchemaRef reports a $ref to one of the scalar schemas.
func scalarSchemaRef(ref string) bool {
	for _, n := range scalarSchemas {
		if ref == "#/components/schemas/"+n {
			return true
		}
	}
	return false
}

func isRef(n *yaml.Node) bool { return n != nil && n.Kind == yaml.MappingNode && get(n, "$ref") != nil }

// same reports whether two nodes hold the same data.
func same(a, b *yaml.Node) bool {
	var x, y any
	_ = a.Decode(&x)
	_ = b.Decode(&y)
	return reflect.DeepEqual(x, y)
}

func text(n *yaml.Node) string {
	var v any
	_ = n.Decode(&v)
	b, _ := json.Marshal(v)
	return string(b)
}

// Building and reading nodes.

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

func flowSeq(vs []string) *yaml.Node {
	n := seq()
	n.Style = yaml.FlowStyle
	for _, v := range vs {
		n.Content = append(n.Content, str(v))
	}
	return n
}

// mapping makes a mapping of key, value pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		set(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

// get returns the value of key in a mapping, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// set puts key: v in a mapping, replacing an earlier value.
func set(n *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, str(key), v)
}
