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
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchgate [-allocs-only] [-alpha 0.05] bench.txt...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	set := newSet()
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchgate:", err)
			os.Exit(2)
		}
		err = set.read(f, name)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchgate:", err)
			os.Exit(2)
		}
	}
	if _, failed := set.judge(os.Stdout, *allocsOnly, *alpha); failed > 0 {
		os.Exit(1)
	}
}

// samples holds the measurements of one benchmark (its name without the
// impl part) for one impl.
type samples struct {
	secs   []float64
	allocs []float64
}

type benchSet struct {
	order []string                       // benchmark keys in first-seen order
	data  map[string]map[string]*samples // key -> impl -> samples
	seen  map[string]bool
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
