// Package bench holds paired benchmarks of rawpoll against
// golang.org/x/sys/unix. Every benchmark has sub-benchmarks named
// impl=rawsys (rawpoll's path) and impl=xsys (the same work through
// x/sys), plus reference rows where they explain a figure (impl=stub: the
// bare assembly stub; impl=syscall: syscall.RawSyscall6). Compare them with
//
//	go tool benchstat -col /impl out.txt
//
// `make bench` runs them interleaved and prints that table. Instruction
// counts of the same paths, exact under valgrind, come from bench/cmd/instr
// (`make bench-instr`).
package bench
