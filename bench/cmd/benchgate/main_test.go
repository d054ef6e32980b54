package main

import (
	"fmt"
	"strings"
	"testing"
)

// results writes n benchmark lines for one impl with the given ns/op
// values (cycled) and allocs.
func results(name, impl string, ns []float64, allocs int) string {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "Benchmark%s/impl=%s-2\t1000000\t%.1f ns/op\t0 B/op\t%d allocs/op\n", name, impl, ns[i%len(ns)], allocs)
	}
	return b.String()
}

func judgeText(t *testing.T, text string, allocsOnly bool) (string, int, int) {
	t.Helper()
	s := newSet()
	if err := s.read(strings.NewReader("goos: linux\ngoarch: amd64\n"+text), "test"); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	p, f := s.judge(&out, allocsOnly, 0.05)
	return out.String(), p, f
}

func TestFasterPasses(t *testing.T) {
	out, p, f := judgeText(t, results("Wait", "rawsys", []float64{200, 201, 202}, 0)+results("Wait", "xsys", []float64{260, 261, 262}, 0), false)
	if p != 1 || f != 0 || !strings.Contains(out, "PASS Wait-2: rawsys/xsys 0.77") || !strings.HasSuffix(out, "benchgate: 1 passed, 0 failed\n") {
		t.Fatalf("got %d passed %d failed:\n%s", p, f, out)
	}
}

func TestSignificantlySlowerFails(t *testing.T) {
	out, _, f := judgeText(t, results("Wait", "rawsys", []float64{300, 301, 302}, 0)+results("Wait", "xsys", []float64{260, 261, 262}, 0), false)
	if f != 1 || !strings.Contains(out, "rawsys slower than xsys") {
		t.Fatalf("a significantly slower rawsys passed:\n%s", out)
	}
}

func TestNoiseIsNotSlower(t *testing.T) {
	// Same distribution: no significant difference, so no failure.
	vals := []float64{250, 240, 260, 255, 245}
	out, _, f := judgeText(t, results("Wait", "rawsys", vals, 0)+results("Wait", "xsys", vals, 0), false)
	if f != 0 {
		t.Fatalf("equal samples failed:\n%s", out)
	}
}

func TestAllocationsFail(t *testing.T) {
	text := results("Wait", "rawsys", []float64{200}, 1) + results("Wait", "xsys", []float64{260}, 3) +
		results("Wake", "rawsys-blocking", []float64{200}, 2) + results("Wake", "rawsys", []float64{200}, 0)
	out, p, f := judgeText(t, text, true)
	if p != 0 || f != 2 || !strings.Contains(out, "impl=rawsys allocates (1 allocs/op)") || !strings.Contains(out, "impl=rawsys-blocking allocates") {
		t.Fatalf("allocations not caught (%d passed, %d failed):\n%s", p, f, out)
	}
	// x/sys allocating is not our failure.
	out, _, f = judgeText(t, results("Wait", "rawsys", []float64{200}, 0)+results("Wait", "xsys", []float64{260}, 5), true)
	if f != 0 {
		t.Fatalf("x/sys allocations failed the gate:\n%s", out)
	}
}

func TestAllocsOnlyIgnoresTime(t *testing.T) {
	out, _, f := judgeText(t, results("Wait", "rawsys", []float64{900}, 0)+results("Wait", "xsys", []float64{100}, 0), true)
	if f != 0 || !strings.Contains(out, "allocs only") {
		t.Fatalf("-allocs-only judged time:\n%s", out)
	}
}

func TestMissingAllocsAndUnpaired(t *testing.T) {
	text := "BenchmarkX/impl=rawsys-2\t100\t5 ns/op\n" + "BenchmarkY-2\t100\t5 ns/op\t0 allocs/op\n" + "BenchmarkZ/impl=xsys-2\t100\t5 ns/op\t0 allocs/op\n"
	out, p, f := judgeText(t, text, true)
	if f != 2 || p != 0 || !strings.Contains(out, "b.ReportAllocs missing") || !strings.Contains(out, "FAIL Z-2: no impl=rawsys results") {
		t.Fatalf("(%d passed, %d failed):\n%s", p, f, out)
	}
	if strings.Contains(out, "Y-2") {
		t.Fatalf("an unpaired benchmark was judged:\n%s", out)
	}
}

func TestSubBenchmarkKeys(t *testing.T) {
	text := results("Ready/ready=16", "rawsys", []float64{100}, 0) + results("Ready/ready=16", "xsys", []float64{200}, 0) +
		results("Ready/ready=64", "rawsys", []float64{100}, 0) + results("Ready/ready=64", "xsys", []float64{200}, 0)
	out, p, _ := judgeText(t, text, false)
	if p != 2 || !strings.Contains(out, "Ready/ready=16-2") || !strings.Contains(out, "Ready/ready=64-2") {
		t.Fatalf("sub-benchmarks not kept apart:\n%s", out)
	}
}

// instrText writes instruction-count lines as bench/cmd/instr does.
func instrText(goVer string, rows ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\ngo: %s\n", goVer)
	for i := 0; i+1 < len(rows); i += 2 {
		fmt.Fprintf(&b, "Benchmark%s 1 %s instructions/op 0 allocs/op\n", rows[i], rows[i+1])
	}
	return b.String()
}

func judgeInstrText(t *testing.T, base, cur string) (string, int, int) {
	t.Helper()
	bs, cs := newSet(), newSet()
	if err := bs.read(strings.NewReader(base), "base"); err != nil {
		t.Fatal(err)
	}
	if err := cs.read(strings.NewReader(cur), "cur"); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	p, f := judgeInstr(&out, bs, cs, 0.02)
	return out.String(), p, f
}

func TestInstrWithinTolerancePasses(t *testing.T) {
	base := instrText("go1.26.8", "Wait/impl=rawsys", "100", "Wait/impl=stub", "30", "Wait/impl=xsys", "285")
	// +2% exactly is allowed; x/sys may move freely.
	cur := instrText("go1.26.8", "Wait/impl=rawsys", "102", "Wait/impl=stub", "29", "Wait/impl=xsys", "400")
	out, p, f := judgeInstrText(t, base, cur)
	if p != 2 || f != 0 || !strings.Contains(out, "PASS Wait impl=rawsys: 102 instructions/op, baseline 100 (+2.0%)") ||
		!strings.Contains(out, "INFO Wait impl=xsys: 400 instructions/op (baseline 285; not gated)") {
		t.Fatalf("%d passed, %d failed:\n%s", p, f, out)
	}
}

func TestInstrRiseFails(t *testing.T) {
	base := instrText("go1.26.8", "Wait/impl=rawsys", "100", "Wait/impl=rawsys-blocking", "233", "Wait/impl=uring", "127")
	cur := instrText("go1.26.8", "Wait/impl=rawsys", "102.5", "Wait/impl=rawsys-blocking", "233", "Wait/impl=uring", "130")
	out, _, f := judgeInstrText(t, base, cur)
	if f != 2 || !strings.Contains(out, "FAIL Wait impl=rawsys: 102.5 instructions/op, baseline 100: +2.5%, more than 2% above") ||
		!strings.Contains(out, "FAIL Wait impl=uring: 130 instructions/op, baseline 127: +2.4%") {
		t.Fatalf("a 2.5%% rise passed:\n%s", out)
	}
	if strings.Contains(out, "note:") {
		t.Fatalf("a toolchain note with the same Go version:\n%s", out)
	}
	out, _, _ = judgeInstrText(t, base, strings.Replace(cur, "go1.26.8", "go1.27.0", 1))
	if !strings.Contains(out, "counted with go1.26.8 and this run with go1.27.0") {
		t.Fatalf("no note on a different Go version:\n%s", out)
	}
}

func TestInstrNewAndMissingRowsFail(t *testing.T) {
	base := instrText("go1.26.8", "Wait/impl=rawsys", "100", "Gone/impl=rawsys", "50")
	cur := instrText("go1.26.8", "Wait/impl=rawsys", "90", "New/impl=stub", "20")
	out, p, f := judgeInstrText(t, base, cur)
	if p != 1 || f != 2 || !strings.Contains(out, "FAIL New impl=stub: 20 instructions/op, no baseline") ||
		!strings.Contains(out, "FAIL Gone impl=rawsys: in the baseline (50 instructions/op) but not measured") ||
		!strings.Contains(out, "lock it in with make instr-baseline") {
		t.Fatalf("%d passed, %d failed:\n%s", p, f, out)
	}
}
