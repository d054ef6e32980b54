// Command instr counts the user-space instructions of rawpoll's hot paths
// exactly, under valgrind's callgrind, and prints them as benchmark lines
// (benchfmt), one per row:
//
//	BenchmarkEpollWaitEmpty/impl=rawsys 1 73 instructions/op 0 allocs/op
//
// so that benchstat tabulates them (-col /impl) and benchgate gates them
// against a baseline (make bench-instr, which make test runs).
//
//	instr [-run regexp] [-n1 N -n2 M] [-method toggle|totals] [-valgrind valgrind] [-list]
//
// How it counts (-method toggle, the default): the program runs itself
// under
//
//	valgrind --tool=callgrind --collect-atstart=no \
//	    --toggle-collect=main.measured --dump-after=main.measured
//
// so that callgrind counts only the instructions executed while
// main.measured is on the measuring thread's stack, and writes one profile
// per call. For every row the child calls measured(loop, n) with n = n1,
// n2, n1, n2, where loop runs the row's hot path n times. The count per
// call is (I(n2) - I(n1)) / (n2 - n1): every fixed cost (the calls into
// measured and loop, the loop's entry and exit) cancels, so any n1 < n2
// give the same count. The two pairs
// must agree to the instruction, and no profile may show the scheduler,
// stack growth, a signal, the allocator, the collector or sysmon taking
// the P at work; a row that fails either check is measured again, up to 5
// times. Other threads (sysmon, the runtime's helpers) are never counted,
// since they never run main.measured.
//
// The child runs with GOMAXPROCS=1, GOGC=off and GODEBUG=asyncpreemptoff=1,
// locked to one OS thread (callgrind follows call stacks per thread). Before
// a row's measured runs it spins until sysmon has backed off to its 10ms
// tick (settle), and it yields before every measured call, so that sysmon
// neither preempts a run (after 10ms without a reschedule) nor inspects
// the x/sys rows' system calls often. The runs are short for that reason:
// unless -n1 and -n2 are given, the child picks n1 per row, a multiple of
// 64 (so that runtime work done every 2^k calls cancels too) for which a
// run takes about a millisecond under valgrind, and n2 = 3 n1. Each loop
// runs 64 times unmeasured first, so one-time costs (stack growth, lazy
// set-up) fall outside, and that run times the loop.
//
// -method totals is the naive way, kept for comparison: whole-program
// instruction totals (callgrind without toggles: every thread, start-up
// included) of two processes running n1 and n2 iterations, (T(n2) -
// T(n1)) / (n2 - n1). It moves with whatever else the process did.
//
// Rows live in rows_*.go files; see rows_epoll_linux.go for how to add one.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"
)

// row is one measured hot path.
type row struct {
	// name is the benchmark name without "Benchmark", with an impl=...
	// part as in bench/: "EpollWaitEmpty/impl=rawsys".
	name string
	// per is how many operations one iteration of the loop makes (a row
	// reading 64 events per iteration reports instructions per event with
	// per 64); 0 means 1.
	per int
	// setup prepares the row and returns its loop, which must run the hot
	// path exactly n times and panic on any failure, and a cleanup (or
	// nil).
	setup func() (loop func(n int), cleanup func())
}

// rows are the rows of this platform and build: every rows_*.go file
// appends its own from init.
var rows []row

func main() {
	child := flag.String("child", "", `internal: run the rows (under valgrind) for these comma-separated iteration counts, or "auto"`)
	run := flag.String("run", ".", "run only the rows whose name matches this regexp")
	n1 := flag.Int("n1", 0, "iterations of the short measured run (default: chosen per row; -method totals: 256)")
	n2 := flag.Int("n2", 0, "iterations of the long measured run (default: 3 n1; -method totals: 768)")
	method := flag.String("method", "toggle", "toggle: callgrind around the loop alone (exact); totals: whole-program totals of two processes (for comparison)")
	vg := flag.String("valgrind", "valgrind", "the valgrind command")
	list := flag.Bool("list", false, "list the rows and exit")
	noSettle := flag.Bool("nosettle", false, "internal: with -child, do not wait for sysmon to settle (its spin would count in whole-program totals)")
	flag.Parse()
	re, err := regexp.Compile(*run)
	if err != nil {
		fatal(err)
	}
	sel := selected(re)
	switch {
	case *list:
		for _, r := range sel {
			fmt.Println(r.name)
		}
		return
	case *child == "auto":
		runChild(os.Stdout, sel, nil, !*noSettle)
		return
	case *child != "":
		var ns []int
		for _, f := range strings.Split(*child, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				fatal(fmt.Errorf("-child: bad count %q", f))
			}
			ns = append(ns, n)
		}
		runChild(os.Stdout, sel, ns, !*noSettle)
		return
	}
	if *method == "totals" && *n1 == 0 && *n2 == 0 {
		*n1, *n2 = 256, 768
	}
	if (*n1 != 0 || *n2 != 0) && (*n1 <= 0 || *n2 <= *n1) {
		fatal(errors.New("need 0 < n1 < n2"))
	}
	if len(sel) == 0 {
		fatal(fmt.Errorf("no rows match %q on %s/%s", *run, runtime.GOOS, runtime.GOARCH))
	}
	c := &counter{vg: *vg, n1: *n1, n2: *n2}
	var res []result
	switch *method {
	case "toggle":
		res, err = c.exact(sel)
	case "totals":
		res, err = c.totals(sel)
	default:
		err = fmt.Errorf("-method %q: want toggle or totals", *method)
	}
	if err != nil {
		fatal(err)
	}
	c.print(os.Stdout, *method, res)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "instr:", err)
	os.Exit(1)
}

// selected returns the rows matching re, sorted by name.
func selected(re *regexp.Regexp) []row {
	var sel []row
	for _, r := range rows {
		if re.MatchString(r.name) {
			sel = append(sel, r)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].name < sel[j].name })
	return sel
}

// onlyRows is a -run regexp matching exactly the rows named.
func onlyRows(rs []row) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = regexp.QuoteMeta(r.name)
	}
	return "^(" + strings.Join(names, "|") + ")$"
}

// measured is the only code callgrind counts (--toggle-collect), one
// profile per call (--dump-after). It must not be inlined, and nothing but
// the loop may run inside it.
//
//go:noinline
func measured(loop func(int), n int) { loop(n) }

// runChild runs every row: set up, one unmeasured warm-up run, then one
// measured run per count in ns, or, with ns nil, for n1, n2, n1, n2 chosen
// by autoCount. For each measured run it prints "run NAME N ALLOCS" to w,
// in the order of callgrind's dumps.
func runChild(w io.Writer, sel []row, ns []int, wait bool) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	allocs := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	// One thread for every measured run: callgrind keeps call stacks per
	// thread, so a goroutine that moved would leave main.measured on
	// another thread's stack.
	runtime.LockOSThread()
	for _, r := range sel {
		loop, cleanup := r.setup()
		t := time.Now()
		loop(64)
		counts := ns
		if counts == nil {
			n1 := autoCount(time.Since(t))
			counts = []int{n1, 3 * n1, n1, 3 * n1}
		}
		if wait {
			settle()
		}
		for _, n := range counts {
			a := allocs()
			// A fresh time slice: sysmon preempts a goroutine that has run
			// 10ms without a reschedule.
			runtime.Gosched()
			measured(loop, n)
			fmt.Fprintf(bw, "run %s %d %d\n", r.name, n, allocs()-a)
		}
		if cleanup != nil {
			cleanup()
		}
	}
}

// autoCount is the n1 for a loop that took d for 64 iterations: a multiple
// of 64, from 64 to 512, for which a run takes about 1ms, so that the
// longest (3 n1) stays well inside sysmon's 10ms preemption even on a
// loaded machine.
func autoCount(d time.Duration) int {
	k := int(time.Millisecond / max(d, time.Microsecond))
	return 64 * min(max(k, 1), 8)
}

// settle spins, without system calls, until sysmon has backed off to its
// longest tick. sysmon polls every 20µs until 50 polls found nothing to
// retake or preempt, then doubles its sleep up to 10ms, about 20ms in all;
// any retake starts it over. At 20µs it inspects nearly every system call
// an x/sys row makes under valgrind (in Go 1.26 it holds the goroutine's
// scan bit meanwhile, and takes the P when it sees the same call twice),
// which costs that row instructions in exitsyscall; at 10ms it seldom does.
// The spin yields every 2ms, so that sysmon never finds a goroutine
// running 10ms without a reschedule.
func settle() {
	end := time.Now().Add(40 * time.Millisecond)
	for now := time.Now(); now.Before(end); now = time.Now() {
		for t := now.Add(2 * time.Millisecond); time.Now().Before(t); {
		}
		runtime.Gosched()
	}
}

// intruders are functions that must never run inside a measured loop: the
// scheduler, stack growth, signal delivery, preemption, the allocator, the
// collector, and sysmon taking the P during a system call (the x/sys rows
// enter the scheduler's syscall state). One of them in a profile means the
// count is not the hot path's alone.
var intruders = []string{
	"runtime.schedule", "runtime.morestack", "runtime.newstack", "runtime.sigtramp",
	"runtime.sighandler", "runtime.asyncPreempt", "runtime.gopreempt_m",
	"runtime.mallocgc", "runtime.gcStart", "runtime.exitsyscall0",
	"runtime.exitsyscallfast_pidle", "runtime.exitsyscallfast_reacquired",
	"runtime.exitsyscallTryGetP", "runtime.pidleget", "runtime.entersyscall_sysmon",
	"runtime.stoplockedm",
}

// profile is one callgrind dump: its instruction total, and the intruders
// that spent instructions in it.
type profile struct {
	total     int64
	intruders []string
}

// readProfile parses a callgrind output file (the format of
// valgrind/docs/callgrind-format): "totals:" is the total, "fn=(id) name"
// (or "fn=(id)" once named; cfn= names too) opens a function's block, and
// a cost line ("line cost", the line possibly +n, -n or *) is that
// function's own cost, except the one line after "calls=", which is a
// callee's inclusive cost.
func readProfile(r io.Reader) (profile, error) {
	var p profile
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	names := map[string]string{}
	fn, afterCalls := "", false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "totals:"):
			f := strings.Fields(line)
			if len(f) < 2 {
				return p, fmt.Errorf("bad totals line %q", line)
			}
			var err error
			if p.total, err = strconv.ParseInt(f[1], 10, 64); err != nil {
				return p, fmt.Errorf("bad totals line %q", line)
			}
			found = true
		case strings.HasPrefix(line, "fn="):
			fn = line[3:]
			if id, name, ok := strings.Cut(fn, " "); ok {
				names[id] = name
				fn = name
			} else if name, ok := names[fn]; ok {
				fn = name
			}
		case strings.HasPrefix(line, "cfn="):
			if id, name, ok := strings.Cut(line[4:], " "); ok {
				names[id] = name
			}
		case strings.HasPrefix(line, "calls="):
			afterCalls = true
		case line != "" && strings.ContainsRune("0123456789+-*", rune(line[0])):
			if afterCalls {
				afterCalls = false
				continue
			}
			if contains(intruders, fn) && !contains(p.intruders, fn) {
				p.intruders = append(p.intruders, fn)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return p, err
	}
	if !found {
		return p, errors.New("no totals line")
	}
	return p, nil
}

func readProfileFile(path string) (profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return profile{}, err
	}
	defer f.Close()
	p, err := readProfile(f)
	if err != nil {
		return p, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// result is one row's count.
type result struct {
	name   string
	instrs float64 // per operation
	allocs float64 // per operation
}

type counter struct {
	vg     string
	n1, n2 int
}

// childRun is one line of the child's output.
type childRun struct {
	name   string
	n      int
	allocs uint64
}

// runValgrind runs the child under valgrind with the given tool options
// and returns its runs.
func (c *counter) runValgrind(toolArgs []string, sel []row, ns []int, childArgs ...string) ([]childRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	counts := "auto"
	perRow := 4 // auto: n1, n2, n1, n2
	if ns != nil {
		s := make([]string, len(ns))
		for i, n := range ns {
			s[i] = strconv.Itoa(n)
		}
		counts, perRow = strings.Join(s, ","), len(ns)
	}
	args := append([]string{"-q"}, toolArgs...)
	args = append(args, exe, "-child", counts, "-run", onlyRows(sel))
	args = append(args, childArgs...)
	cmd := exec.Command(c.vg, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOGC=off", "GODEBUG=asyncpreemptoff=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", c.vg, strings.Join(toolArgs, " "), err)
	}
	var runs []childRun
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "run" {
			return nil, fmt.Errorf("child: unexpected output %q", line)
		}
		n, err1 := strconv.Atoi(f[2])
		a, err2 := strconv.ParseUint(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("child: unexpected output %q", line)
		}
		runs = append(runs, childRun{f[1], n, a})
	}
	if len(runs) != perRow*len(sel) {
		return nil, fmt.Errorf("child made %d measured runs, want %d", len(runs), perRow*len(sel))
	}
	for i, r := range sel {
		run := runs[i*perRow : (i+1)*perRow]
		for j, got := range run {
			want := 0
			switch {
			case ns != nil:
				want = ns[j]
			case j >= 2:
				want = run[j-2].n
			default:
				want = got.n
			}
			if got.name != r.name || got.n != want || ns == nil && run[1].n <= run[0].n {
				return nil, fmt.Errorf("child measured %s %d, want %s %d", got.name, got.n, r.name, want)
			}
		}
	}
	return runs, nil
}

// attempt measures the rows once with callgrind and returns the results
// and the rows whose measurement was disturbed, with the reason.
func (c *counter) attempt(sel []row) ([]result, map[string]string, error) {
	dir, err := os.MkdirTemp("", "instr")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "callgrind.out")
	var ns []int // auto
	if c.n1 != 0 {
		ns = []int{c.n1, c.n2, c.n1, c.n2}
	}
	runs, err := c.runValgrind([]string{"--tool=callgrind", "--collect-atstart=no",
		"--toggle-collect=main.measured", "--dump-after=main.measured",
		"--callgrind-out-file=" + out}, sel, ns)
	if err != nil {
		return nil, nil, err
	}
	var res []result
	disturbed := map[string]string{}
	for i, r := range sel {
		var p [4]profile
		for j := range p {
			// callgrind numbers its dumps from 1, in the order of the runs.
			if p[j], err = readProfileFile(fmt.Sprintf("%s.%d", out, 4*i+j+1)); err != nil {
				return nil, nil, err
			}
		}
		var why []string
		for _, x := range p {
			for _, in := range x.intruders {
				if !contains(why, in) {
					why = append(why, in)
				}
			}
		}
		run := runs[4*i : 4*i+4]
		dn := run[1].n - run[0].n
		d1, d2 := p[1].total-p[0].total, p[3].total-p[2].total
		if d1 != d2 {
			why = append(why, fmt.Sprintf("the pairs differ: %d and %d instructions over %d iterations", d1, d2, dn))
		}
		if len(why) > 0 {
			disturbed[r.name] = strings.Join(why, ", ")
			continue
		}
		a := run[1].allocs + run[3].allocs - run[0].allocs - run[2].allocs
		ops := float64(dn * max(r.per, 1))
		res = append(res, result{r.name, float64(d1) / ops, float64(a) / (2 * ops)})
	}
	return res, disturbed, nil
}

// attempts is how many times a disturbed row is measured before exact
// gives up on it.
const attempts = 5

// gated reports whether benchgate gates a row's impl: every impl but the
// references, xsys and syscall, is rawpoll's code.
func gated(name string) bool {
	_, impl, _ := strings.Cut(name, "/impl=")
	return impl != "xsys" && impl != "syscall"
}

// exact measures the rows, measuring disturbed rows again, up to attempts
// times in all. A reference row disturbed every time is left out (with a
// warning: benchgate shows it as missing but does not gate it); a gated
// row disturbed every time is an error.
func (c *counter) exact(sel []row) ([]result, error) {
	var res []result
	for try := 1; len(sel) > 0; try++ {
		got, disturbed, err := c.attempt(sel)
		if err != nil {
			return nil, err
		}
		res = append(res, got...)
		var again []row
		var failed []string
		for _, r := range sel {
			why, ok := disturbed[r.name]
			switch {
			case !ok:
			case try < attempts:
				fmt.Fprintf(os.Stderr, "instr: %s disturbed (%s); measuring it again\n", r.name, why)
				again = append(again, r)
			case gated(r.name):
				failed = append(failed, r.name+": "+why)
			default:
				fmt.Fprintf(os.Stderr, "instr: WARNING: %s disturbed %d times (%s); left out\n", r.name, attempts, why)
			}
		}
		if len(failed) > 0 {
			return nil, fmt.Errorf("disturbed %d times, no exact count:\n\t%s", attempts, strings.Join(failed, "\n\t"))
		}
		sel = again
	}
	sort.SliceStable(res, func(i, j int) bool { return res[i].name < res[j].name })
	return res, nil
}

// totals measures every row in two processes under callgrind, from the
// whole-program totals (every thread, from start-up to exit).
func (c *counter) totals(sel []row) ([]result, error) {
	dir, err := os.MkdirTemp("", "instr")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var res []result
	for _, r := range sel {
		var t [2]int64
		var runs [2]childRun
		for i, n := range []int{c.n1, c.n2} {
			out := filepath.Join(dir, fmt.Sprintf("callgrind.%d", i))
			rs, err := c.runValgrind([]string{"--tool=callgrind", "--callgrind-out-file=" + out}, []row{r}, []int{n}, "-nosettle")
			if err != nil {
				return nil, err
			}
			runs[i] = rs[0]
			p, err := readProfileFile(out)
			if err != nil {
				return nil, err
			}
			t[i] = p.total
		}
		ops := float64((c.n2 - c.n1) * max(r.per, 1))
		res = append(res, result{r.name, float64(t[1]-t[0]) / ops, float64(runs[1].allocs-runs[0].allocs) / ops})
	}
	return res, nil
}

// print writes the configuration lines and one result line per row.
func (c *counter) print(w io.Writer, method string, res []result) {
	vgv, _ := exec.Command(c.vg, "--version").Output()
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/rawpoll/rawpoll/bench/cmd/instr\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "go: %s\nvalgrind: %s\n", runtime.Version(), strings.TrimSpace(string(vgv)))
	counts := "n1 per row, n2 = 3 n1"
	if c.n1 != 0 {
		counts = fmt.Sprintf("n1 = %d, n2 = %d", c.n1, c.n2)
	}
	fmt.Fprintf(w, "counted: %s, (I(n2)-I(n1))/(n2-n1), %s, GOMAXPROCS=1 GOGC=off\n", method, counts)
	for _, r := range res {
		fmt.Fprintf(w, "Benchmark%s 1 %s instructions/op %s allocs/op\n", r.name,
			strconv.FormatFloat(r.instrs, 'f', -1, 64), strconv.FormatFloat(r.allocs, 'f', -1, 64))
	}
}
