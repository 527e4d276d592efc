// Command pause is the sandbox ("pause") container of the test cluster's pods
// (test/tools/cluster/): PID 1 of each pod, holding its namespaces.
//
// It does what Kubernetes' build/pause/linux/pause.c does: wait for SIGINT or
// SIGTERM and exit 0, and reap zombies (it is the init of pods that share their
// process namespace). It is written in Go because the image must be built here,
// from the Go toolchain, without a C compiler or a container registry.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (todo-gitops test cluster)")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", s)
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
