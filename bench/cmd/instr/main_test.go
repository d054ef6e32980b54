package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var regexpAll = regexp.MustCompile(".")

// A callgrind profile in the shape valgrind 3.19 writes with name
// compression: main.measured calls the loop, which calls
// runtime.mallocgc (its cost is the loop's inclusive cost, and mallocgc's
// own block), and runtime.schedule appears as a callee with no cost of its
// own in this part.
const sampleProfile = `# callgrind format
version: 1
creator: callgrind-3.19.0
events: Ir
summary: 1234

ob=(1) /x/instr
fl=(1) /x/main.go
fn=(1) main.measured
127 9
cfn=(2) main.loop
calls=1 0
127 1225

fn=(2)
5 100
+1 25
cfn=(3) runtime.mallocgc
calls=2 0
* 1000
cfn=(4) runtime.schedule
calls=1 0
6 100

fn=(3)
10 1000

totals: 1234
`

func TestReadProfile(t *testing.T) {
	p, err := readProfile(strings.NewReader(sampleProfile))
	if err != nil {
		t.Fatal(err)
	}
	if p.total != 1234 {
		t.Errorf("total %d, want 1234", p.total)
	}
	// mallocgc spent instructions of its own; schedule appears only as a
	// callee (its inclusive cost line belongs to the caller's calls=).
	if fmt.Sprint(p.intruders) != "[runtime.mallocgc]" {
		t.Errorf("intruders %v, want [runtime.mallocgc]", p.intruders)
	}
}

func TestReadProfileWithoutTotals(t *testing.T) {
	if _, err := readProfile(strings.NewReader("events: Ir\nfn=(1) f\n1 2\n")); err == nil {
		t.Fatal("a profile without a totals line was accepted")
	}
	if _, err := readProfile(strings.NewReader("totals: many\n")); err == nil {
		t.Fatal("a bad totals line was accepted")
	}
}

// TestRowsRun runs every row's loop for real, without valgrind, through
// the child's own output: a row that fails, or does not run exactly the
// counts asked, fails here and not first in make bench-instr.
func TestRowsRun(t *testing.T) {
	if len(rows) == 0 {
		t.Skip("SKIP: no instruction rows on this platform")
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.name] || !strings.Contains(r.name, "/impl=") {
			t.Errorf("row %q: duplicate, or no /impl= part", r.name)
		}
		seen[r.name] = true
	}
	var out bytes.Buffer
	sel := selected(regexpAll)
	runChild(&out, sel, []int{3, 5}, false)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2*len(sel) {
		t.Fatalf("%d lines for %d rows:\n%s", len(lines), len(sel), out.String())
	}
	for i, r := range sel {
		for j, n := range []int{3, 5} {
			if want := fmt.Sprintf("run %s %d ", r.name, n); !strings.HasPrefix(lines[2*i+j], want) {
				t.Errorf("line %q, want prefix %q", lines[2*i+j], want)
			}
		}
	}
}

func TestOnlyRows(t *testing.T) {
	re := onlyRows([]row{{name: "A/impl=x"}, {name: "B/ready=64/impl=y"}})
	if re != `^(A/impl=x|B/ready=64/impl=y)$` {
		t.Errorf("onlyRows: %s", re)
	}
}
