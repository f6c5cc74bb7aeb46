package pricing

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
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
	// guarded: evaluated with a cost limit and the request's context.
	guarded bool
	// cost is the estimated worst case of one evaluation, in CEL's units.
	cost uint64
	err  error
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
	// A pattern made while the condition runs is compiled anew at every
	// evaluation (every line, every rule), which no cost estimate sees:
	// matches takes a pattern written in the condition.
	var dynamic celast.Expr
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if dynamic != nil || e.Kind() != celast.CallKind || e.AsCall().FunctionName() != "matches" {
			return
		}
		c := e.AsCall()
		args := c.Args()
		pattern := args[len(args)-1]
		if pattern.Kind() != celast.LiteralKind {
			dynamic = e
		}
	}))
	if dynamic != nil {
		loc := ast.NativeRep().SourceInfo().GetStartLocation(dynamic.ID())
		return compiled{err: fmt.Errorf("line %d, column %d: matches needs a pattern written in the condition (a string in quotes), not one made while it runs", loc.Line(), loc.Column()+1)}
	}
	// The worst case is estimated from the largest inputs there can be (a
	// receipt of 1000 lines, 50 tags): one over the budget is refused when
	// it is saved, so that no condition can make every receipt wait.
	est, err := env.EstimateCost(ast, sizes{})
	if err != nil {
		return compiled{err: fmt.Errorf("line 1, column 1: its cost cannot be estimated: %v", err)}
	}
	if est.Max > MaxConditionCost {
		return compiled{err: fmt.Errorf("line 1, column 1: may take up to %d steps on the largest receipt, over the budget of %d: nest fewer loops (all, exists, map, filter) over lists", est.Max, MaxConditionCost)}
	}
	// At run time too, for a condition that loops over lists: a cost limit,
	// and the evaluation stops when the request's context ends. (Tracking
	// the cost triples the time of an evaluation, so a condition whose
	// worst case is small, as nearly all are, runs without it; every
	// evaluation looks at the context first.)
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	guarded := est.Max > cheapCondition
	if guarded {
		opts = append(opts, cel.CostLimit(MaxConditionCost), cel.InterruptCheckFrequency(64))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return compiled{err: err}
	}
	c := compiled{prg: prg, guarded: guarded, cost: est.Max}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		c.perLine = c.perLine || strings.HasPrefix(ref.Name, "line.")
		c.member = c.member || strings.HasPrefix(ref.Name, "member.")
		c.lastPurchase = c.lastPurchase || ref.Name == "member.days_since_last_purchase"
	}
	return c
}

// MaxProgrammeCost is the most all of a programme's conditions may cost
// together on the largest receipt (1000 lines): a condition that reads the
// line counts once per line, any other once per receipt. It bounds the
// work of pricing one receipt, whatever the rules (the estimate is a worst
// case: conditions that stop early, as most do, take far less).
const MaxProgrammeCost = 50_000_000

// MaxConditionCost is the most a rule's or a segment's condition may cost,
// in CEL's cost units (about one per step: a comparison, a variable read,
// one element of a loop), estimated for the largest inputs when it is
// saved and enforced when it runs.
const MaxConditionCost = 100_000

// cheapCondition is the worst case under which a condition runs without
// tracking its cost.
const cheapCondition = 1_000

// sizes gives the cost estimator the largest size of each variable that
// is a list or a string; the engine never gives it larger ones.
type sizes struct{}

var varSizes = map[string]uint64{
	"member.tags":        50,
	"member.categories":  kopilka.MaxLines,
	"receipt.categories": kopilka.MaxLines,
	"receipt.skus":       kopilka.MaxLines,
	"receipt.weekday":    3,
	"receipt.date":       10,
}

func (sizes) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) > 0 {
		if most, ok := varSizes[p[0]]; ok && len(p) == 1 {
			return &cost.SizeEstimate{Min: 0, Max: most}
		}
		if len(p) == 1 || len(p) == 2 && p[1] == "@items" { // ids and names: at most MaxIDLength bytes
			return &cost.SizeEstimate{Min: 0, Max: kopilka.MaxIDLength}
		}
	}
	return nil
}

func (sizes) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

// vars is the activation a condition reads: the member and receipt once
// per receipt, the line fields for each line.
type vars struct {
	ctx    context.Context // the request's: an evaluation stops when it ends
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

// testHookEval, set by tests only, is called at every evaluation.
var testHookEval func()

// test evaluates a compiled condition; an error while evaluating (a key not
// in a map, say) counts as false.
func (c compiled) test(v *vars) bool {
	if c.prg == nil {
		return true
	}
	if testHookEval != nil {
		testHookEval()
	}
	if v.ctx != nil && v.ctx.Err() != nil {
		return false // the request has ended: Price reports it
	}
	var out ref.Val
	var err error
	if c.guarded && v.ctx != nil {
		out, _, err = c.prg.ContextEval(v.ctx, v)
	} else {
		out, _, err = c.prg.Eval(v)
	}
	return err == nil && out == types.True
}
