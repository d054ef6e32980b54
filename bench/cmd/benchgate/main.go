// Command benchgate reads Go benchmark output (as `make bench` writes it)
// and fails when rawpoll breaks its two promises: an impl=rawsys* benchmark
// that allocates, or impl=rawsys slower than impl=xsys on a benchmark where
// the difference is significant (Mann-Whitney U test, p < alpha, through
// golang.org/x/perf/benchmath, the statistics benchstat uses).
//
// It prints one line per benchmark with the time ratio rawsys/xsys and its
// confidence interval, and a last line "benchgate: N passed, M failed".
//
//	benchgate [-allocs-only] [-alpha 0.05] bench.txt...
//
// -allocs-only checks only allocations: CI runs every benchmark once, and
// one sample says nothing about time on a noisy machine.
//
//	benchgate -instr-baseline testdata/instr/linux-amd64.txt instr.txt
//
// gates instruction counts (instructions/op, as bench/cmd/instr writes
// them) instead of time: every row of rawpoll's own code (every impl but
// the references xsys and syscall) fails when its count is more than
// -instr-tolerance (2%) above the baseline's, is missing from the baseline
// (a new row: record it with make instr-baseline) or from the run. Counts
// are exact, so one sample is enough. The xsys and syscall rows are
// printed but not gated: they are not rawpoll's code. The allocation check
// applies as well.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	allocsOnly := flag.Bool("allocs-only", false, "check allocations only, not time")
	alpha := flag.Float64("alpha", 0.05, "significance level for 'rawsys slower than xsys'")
	instrBase := flag.String("instr-baseline", "", "gate instructions/op against this baseline instead of time")
	instrTol := flag.Float64("instr-tolerance", 0.02, "with -instr-baseline: the largest allowed rise, as a fraction")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchgate [-allocs-only] [-alpha 0.05] bench.txt...")
		fmt.Fprintln(os.Stderr, "       benchgate -instr-baseline base.txt [-instr-tolerance 0.02] instr.txt...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	set, err := readFiles(flag.Args()...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgate:", err)
		os.Exit(2)
	}
	if *instrBase == "" {
		if _, failed := set.judge(os.Stdout, *allocsOnly, *alpha); failed > 0 {
			os.Exit(1)
		}
		return
	}
	base, err := readFiles(*instrBase)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgate:", err)
		os.Exit(2)
	}
	_, allocFailed := set.judge(os.Stdout, true, *alpha)
	if _, failed := judgeInstr(os.Stdout, base, set, *instrTol); failed > 0 || allocFailed > 0 {
		os.Exit(1)
	}
}

func readFiles(names ...string) (*benchSet, error) {
	set := newSet()
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		err = set.read(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return set, nil
}

// samples holds the measurements of one benchmark (its name without the
// impl part) for one impl.
type samples struct {
	secs   []float64
	allocs []float64
	instrs []float64
}

type benchSet struct {
	order []string                       // benchmark keys in first-seen order
	data  map[string]map[string]*samples // key -> impl -> samples
	seen  map[string]bool
	goVer string // the last "go:" configuration value read
}

func newSet() *benchSet {
	return &benchSet{data: map[string]map[string]*samples{}, seen: map[string]bool{}}
}

// read adds every result in r. A result without an impl=... part is not
// a paired benchmark and is ignored.
func (s *benchSet) read(r io.Reader, name string) error {
	rd := benchfmt.NewReader(r, name)
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit metadata: benchstat ignores them too
		}
		if v := res.GetConfig("go"); v != "" {
			s.goVer = v
		}
		base, parts := res.Name.Parts()
		impl, key := "", string(base)
		for _, p := range parts {
			if v, ok := strings.CutPrefix(string(p), "/impl="); ok {
				impl = v
				continue
			}
			key += string(p)
		}
		if impl == "" {
			continue
		}
		if !s.seen[key] {
			s.seen[key] = true
			s.order = append(s.order, key)
			s.data[key] = map[string]*samples{}
		}
		sm := s.data[key][impl]
		if sm == nil {
			sm = &samples{}
			s.data[key][impl] = sm
		}
		for _, v := range res.Values {
			switch v.Unit {
			case "sec/op":
				sm.secs = append(sm.secs, v.Value)
			case "allocs/op":
				sm.allocs = append(sm.allocs, v.Value)
			case "instructions/op":
				sm.instrs = append(sm.instrs, v.Value)
			}
		}
	}
	return rd.Err()
}

// judge prints one line per benchmark and the closing line, and returns
// the counts.
func (s *benchSet) judge(w io.Writer, allocsOnly bool, alpha float64) (passed, failed int) {
	thr := benchmath.DefaultThresholds
	thr.CompareAlpha = alpha
	for _, key := range s.order {
		impls := s.data[key]
		var problems []string
		// Allocations: every rawsys* impl, every sample.
		names := make([]string, 0, len(impls))
		for impl := range impls {
			names = append(names, impl)
		}
		sort.Strings(names)
		sawRawsys := false
		for _, impl := range names {
			if !strings.HasPrefix(impl, "rawsys") {
				continue
			}
			sawRawsys = true
			sm := impls[impl]
			if len(sm.allocs) == 0 {
				problems = append(problems, "impl="+impl+" reports no allocs/op (b.ReportAllocs missing)")
			}
			if m := maxOf(sm.allocs); m > 0 {
				problems = append(problems, fmt.Sprintf("impl=%s allocates (%g allocs/op)", impl, m))
			}
		}
		detail := ""
		raw, xs := impls["rawsys"], impls["xsys"]
		if !allocsOnly && raw != nil && xs != nil && len(raw.secs) > 0 && len(xs.secs) > 0 {
			a := benchmath.NewSample(append([]float64(nil), raw.secs...), &thr)
			b := benchmath.NewSample(append([]float64(nil), xs.secs...), &thr)
			sa := benchmath.AssumeNothing.Summary(a, 0.95)
			sb := benchmath.AssumeNothing.Summary(b, 0.95)
			cmp := benchmath.AssumeNothing.Compare(a, b)
			ratio := sa.Center / sb.Center
			// A conservative interval for the ratio of medians, from the
			// two medians' confidence intervals.
			lo, hi := sa.Lo/sb.Hi, sa.Hi/sb.Lo
			detail = fmt.Sprintf("rawsys/xsys %.3f [%s, %s] (%+.1f%%) %s", ratio, fmtRatio(lo), fmtRatio(hi), 100*(ratio-1), cmp)
			if cmp.P < alpha && sa.Center > sb.Center {
				problems = append(problems, fmt.Sprintf("rawsys slower than xsys (%.3fx, p=%.3f)", ratio, cmp.P))
			}
		} else if !sawRawsys {
			detail = "no impl=rawsys results"
		} else {
			detail = "allocs only"
		}
		if !sawRawsys {
			problems = append(problems, "no impl=rawsys results")
		}
		verdict := "PASS"
		if len(problems) > 0 {
			verdict = "FAIL"
			failed++
			detail += "; " + strings.Join(problems, "; ")
		} else {
			passed++
		}
		fmt.Fprintf(w, "%s %s: %s\n", verdict, key, detail)
	}
	fmt.Fprintf(w, "benchgate: %d passed, %d failed\n", passed, failed)
	return passed, failed
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

func fmtRatio(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "?"
	}
	return fmt.Sprintf("%.3f", x)
}

// gatedInstr reports whether an impl's instruction count is gated: xsys
// and syscall are the references, every other impl (rawsys*, stub, uring,
// ...) is rawpoll's code.
func gatedInstr(impl string) bool { return impl != "xsys" && impl != "syscall" }

// judgeInstr compares the instruction counts of cur against base: one line
// per row, then a closing line, and the counts.
func judgeInstr(w io.Writer, base, cur *benchSet, tol float64) (passed, failed int) {
	last := func(xs []float64) (float64, bool) {
		if len(xs) == 0 {
			return 0, false
		}
		return xs[len(xs)-1], true
	}
	keys := append([]string(nil), cur.order...)
	for _, k := range base.order {
		if !cur.seen[k] {
			keys = append(keys, k)
		}
	}
	for _, key := range keys {
		impls := map[string]bool{}
		for impl := range cur.data[key] {
			impls[impl] = true
		}
		for impl := range base.data[key] {
			impls[impl] = true
		}
		names := make([]string, 0, len(impls))
		for impl := range impls {
			names = append(names, impl)
		}
		sort.Strings(names)
		for _, impl := range names {
			var now, was float64
			var okNow, okWas bool
			if sm := cur.data[key][impl]; sm != nil {
				now, okNow = last(sm.instrs)
			}
			if sm := base.data[key][impl]; sm != nil {
				was, okWas = last(sm.instrs)
			}
			if !okNow && !okWas {
				continue
			}
			row := fmt.Sprintf("%s impl=%s", key, impl)
			if !gatedInstr(impl) {
				fmt.Fprintf(w, "INFO %s: %s instructions/op (baseline %s; not gated)\n", row, fmtCount(now, okNow), fmtCount(was, okWas))
				continue
			}
			switch {
			case !okNow:
				failed++
				fmt.Fprintf(w, "FAIL %s: in the baseline (%g instructions/op) but not measured\n", row, was)
			case !okWas:
				failed++
				fmt.Fprintf(w, "FAIL %s: %g instructions/op, no baseline: a new row; record it with make instr-baseline and commit it\n", row, now)
			case now > was*(1+tol):
				failed++
				fmt.Fprintf(w, "FAIL %s: %g instructions/op, baseline %g: %+.1f%%, more than %g%% above\n", row, now, was, 100*(now/was-1), 100*tol)
			case now < was*(1-tol):
				passed++
				fmt.Fprintf(w, "PASS %s: %g instructions/op, baseline %g: %+.1f%%; lower by more than %g%%: lock it in with make instr-baseline\n", row, now, was, 100*(now/was-1), 100*tol)
			default:
				passed++
				fmt.Fprintf(w, "PASS %s: %g instructions/op, baseline %g (%+.1f%%)\n", row, now, was, 100*(now/was-1))
			}
		}
	}
	if failed > 0 && base.goVer != cur.goVer {
		fmt.Fprintf(w, "note: the baseline was counted with %s and this run with %s; a new compiler changes counts, so re-baseline deliberately\n", base.goVer, cur.goVer)
	}
	fmt.Fprintf(w, "benchgate: instructions: %d passed, %d failed\n", passed, failed)
	return passed, failed
}

func fmtCount(v float64, ok bool) string {
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%g", v)
}
