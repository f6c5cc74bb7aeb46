package pricing

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
	"github.com/kopilka/kopilka"
)

// The variables a rule's condition may read. Each is a typed variable with
// a dotted name, so that "line.categroy" fails to type-check with its
// position, and evaluation reads plain Go values without reflection.
var (
	memberVars = []cel.EnvOption{
		cel.Variable("member.id", cel.StringType),
		cel.Variable("member.tier", cel.StringType),
		cel.Variable("member.age", cel.IntType), // whole years; -1 when the birth date is unknown
		cel.Variable("member.tags", cel.ListType(cel.StringType)),
		cel.Variable("member.categories", cel.ListType(cel.StringType)),
		cel.Variable("member.days_since_last_purchase", cel.IntType), // -1 before the first purchase
		cel.Variable("member.days_since_registration", cel.IntType),
	}
	receiptVars = []cel.EnvOption{
		cel.Variable("receipt.id", cel.StringType),
		cel.Variable("receipt.store", cel.StringType),
		cel.Variable("receipt.channel", cel.StringType),
		cel.Variable("receipt.total", cel.IntType), // minor units, before points
		cel.Variable("receipt.lines", cel.IntType),
		cel.Variable("receipt.categories", cel.ListType(cel.StringType)),
		cel.Variable("receipt.skus", cel.ListType(cel.StringType)),
		cel.Variable("receipt.weekday", cel.StringType), // mon … sun, programme time
		cel.Variable("receipt.hour", cel.IntType),       // 0 … 23, programme time
		cel.Variable("receipt.date", cel.StringType),    // YYYY-MM-DD, programme time
		cel.Variable("store.id", cel.StringType),
	}
	lineVars = []cel.EnvOption{
		cel.Variable("line.number", cel.IntType),
		cel.Variable("line.sku", cel.StringType),
		cel.Variable("line.category", cel.StringType),
		cel.Variable("line.quantity", cel.DoubleType),
		cel.Variable("line.price", cel.IntType),
		cel.Variable("line.amount", cel.IntType),
	}
)

var celEnvs struct {
	once          sync.Once
	rule, segment *cel.Env
	err           error
	mu            sync.Mutex
	programs      map[string]compiled // by env and source
}

type compiled struct {
	prg     cel.Program
	perLine bool // reads line.*, so is evaluated for every line
	member  bool // reads member.*
	// lastPurchase: reads member.days_since_last_purchase, which costs a query.
	lastPurchase bool
	err          error
}

func envs() (rule, segment *cel.Env, err error) {
	celEnvs.once.Do(func() {
		common := []cel.EnvOption{cel.CrossTypeNumericComparisons(true)}
		celEnvs.rule, celEnvs.err = cel.NewEnv(append(append(append(append([]cel.EnvOption{}, common...), memberVars...), receiptVars...), lineVars...)...)
		if celEnvs.err == nil {
			celEnvs.segment, celEnvs.err = cel.NewEnv(append(append([]cel.EnvOption{}, common...), memberVars...)...)
		}
		celEnvs.programs = map[string]compiled{}
	})
	return celEnvs.rule, celEnvs.segment, celEnvs.err
}

// compileCEL compiles a true/false expression once; later calls with the
// same source reuse the program. A source that does not parse or type-check
// is an error that names the line and column.
func compileCEL(src string, segment bool) (compiled, error) {
	rule, seg, err := envs()
	if err != nil {
		return compiled{}, kopilka.Errorf(kopilka.EINTERNAL, "cel: %v", err)
	}
	env, key := rule, "r:"+src
	if segment {
		env, key = seg, "s:"+src
	}
	celEnvs.mu.Lock()
	c, ok := celEnvs.programs[key]
	celEnvs.mu.Unlock()
	if ok {
		return c, c.err
	}
	c = compileWith(env, src)
	celEnvs.mu.Lock()
	if len(celEnvs.programs) > 10_000 { // a bound, not a policy: old programmes' rules go
		clear(celEnvs.programs)
	}
	celEnvs.programs[key] = c
	celEnvs.mu.Unlock()
	return c, c.err
}

func compileWith(env *cel.Env, src string) compiled {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var msgs []string
		for _, e := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("line %d, column %d: %s", e.Location.Line(), e.Location.Column()+1, e.Message))
		}
		return compiled{err: fmt.Errorf("%s", strings.Join(msgs, "; "))}
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return compiled{err: fmt.Errorf("line 1, column 1: must be a true/false expression, not %s", ast.OutputType())}
	}
	// No runtime cost limit: tracking cost doubles the time of every
	// evaluation, and the variables are bounded (a receipt has at most
	// 1000 lines, a member 50 tags), so no expression runs long.
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return compiled{err: err}
	}
	c := compiled{prg: prg}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		c.perLine = c.perLine || strings.HasPrefix(ref.Name, "line.")
		c.member = c.member || strings.HasPrefix(ref.Name, "member.")
		c.lastPurchase = c.lastPurchase || ref.Name == "member.days_since_last_purchase"
	}
	return c
}

// vars is the activation a condition reads: the member and receipt once
// per receipt, the line fields for each line.
type vars struct {
	member *kopilka.Member
	age    int64
	sinceP int64
	sinceR int64

	receipt    *kopilka.Receipt
	total      int64
	categories []string
	skus       []string
	weekday    string
	hour       int64
	date       string

	line *kopilka.Line
	// The line's fields boxed once per line, not once per condition.
	lineVals [6]any
}

// setLine makes l the line conditions read.
func (v *vars) setLine(l *kopilka.Line, boxed bool) {
	v.line = l
	if boxed {
		// CEL values, so the interpreter need not convert them on each read.
		v.lineVals = [6]any{types.Int(l.Line), types.String(l.SKU), types.String(l.Category),
			types.Double(float64(l.Quantity) / kopilka.QuantityScale), types.Int(l.Price), types.Int(l.Amount)}
	}
}

func (v *vars) ResolveName(name string) (any, bool) {
	switch name {
	case "member.id":
		return v.member.ID, true
	case "member.tier":
		return v.member.Tier, true
	case "member.age":
		return v.age, true
	case "member.tags":
		return v.member.Tags, true
	case "member.categories":
		return v.member.Categories, true
	case "member.days_since_last_purchase":
		return v.sinceP, true
	case "member.days_since_registration":
		return v.sinceR, true
	}
	if v.receipt != nil {
		switch name {
		case "receipt.id":
			return v.receipt.ReceiptID, true
		case "receipt.store", "store.id":
			return v.receipt.StoreID, true
		case "receipt.channel":
			return v.receipt.Channel, true
		case "receipt.total":
			return v.total, true
		case "receipt.lines":
			return int64(len(v.receipt.Lines)), true
		case "receipt.categories":
			return v.categories, true
		case "receipt.skus":
			return v.skus, true
		case "receipt.weekday":
			return v.weekday, true
		case "receipt.hour":
			return v.hour, true
		case "receipt.date":
			return v.date, true
		}
	}
	if v.line != nil {
		switch name {
		case "line.number":
			return v.lineVals[0], true
		case "line.sku":
			return v.lineVals[1], true
		case "line.category":
			return v.lineVals[2], true
		case "line.quantity":
			return v.lineVals[3], true
		case "line.price":
			return v.lineVals[4], true
		case "line.amount":
			return v.lineVals[5], true
		}
	}
	return nil, false
}

func (v *vars) Parent() interpreter.Activation { return nil }

// test evaluates a compiled condition; an error while evaluating (a key not
// in a map, say) counts as false.
func (c compiled) test(v *vars) bool {
	if c.prg == nil {
		return true
	}
	out, _, err := c.prg.Eval(v)
	return err == nil && out == types.True
}
