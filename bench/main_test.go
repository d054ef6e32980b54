package bench

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestMain describes the machine in benchfmt configuration lines before
// any result, so benchstat never silently pools results from different
// machines: it keeps configurations apart by these keys.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		for _, line := range machineConfig() {
			fmt.Println(line)
		}
	}
	os.Exit(m.Run())
}

// machineConfig returns "key: value" lines (benchfmt keys: lower case, no
// spaces) describing the CPU as github.com/klauspost/cpuid/v2 reads it.
func machineConfig() []string {
	c := cpuid.CPU
	hv := "none"
	if c.Supports(cpuid.HYPERVISOR) {
		hv = strings.TrimSpace(c.HypervisorVendorString)
		if hv == "" {
			hv = "unknown"
		}
	}
	var simd []string
	for _, f := range []struct {
		id   cpuid.FeatureID
		name string
	}{{cpuid.AVX2, "avx2"}, {cpuid.AVX512F, "avx512f"}, {cpuid.AVX512BW, "avx512bw"}, {cpuid.ASIMD, "neon"}} {
		if c.Supports(f.id) {
			simd = append(simd, f.name)
		}
	}
	if len(simd) == 0 {
		simd = append(simd, "none")
	}
	kib := func(n int) string {
		if n <= 0 {
			return "unknown"
		}
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return []string{
		"cpu-vendor: " + c.VendorID.String(),
		"cpu-brand: " + strings.TrimSpace(c.BrandName),
		fmt.Sprintf("cpu-family-model: %d/%d/%d", c.Family, c.Model, c.Stepping),
		"hypervisor: " + hv,
		"simd: " + strings.Join(simd, ","),
		"cache-l1d: " + kib(c.Cache.L1D),
		"cache-l2: " + kib(c.Cache.L2),
		"cache-l3: " + kib(c.Cache.L3),
		fmt.Sprintf("logical-cpus: %d", runtime.NumCPU()),
		"go: " + runtime.Version(),
	}
}

// implRunner runs a benchmark's impl=... sub-benchmarks in an order
// shuffled by RAWPOLL_BENCH_ROUND (set by make bench for each round), so
// that no impl always runs first or always follows the same neighbour:
// drift on a noisy machine then spreads over all impls alike, while the
// runs stay in one process (fresh processes per sample measured noisier).
type implRunner struct {
	b    *testing.B
	subs []implSub
}

type implSub struct {
	name string
	f    func(*testing.B)
}

func impls(b *testing.B) *implRunner { return &implRunner{b: b} }

func (r *implRunner) run(name string, f func(*testing.B)) {
	r.subs = append(r.subs, implSub{name, f})
}

func (r *implRunner) done() {
	if round, err := strconv.Atoi(os.Getenv("RAWPOLL_BENCH_ROUND")); err == nil {
		h := fnv.New64a()
		h.Write([]byte(r.b.Name()))
		rng := rand.New(rand.NewPCG(uint64(round), h.Sum64()))
		rng.Shuffle(len(r.subs), func(i, j int) { r.subs[i], r.subs[j] = r.subs[j], r.subs[i] })
	}
	for _, s := range r.subs {
		r.b.Run(s.name, s.f)
	}
}
