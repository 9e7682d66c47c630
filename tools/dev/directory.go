package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/batonhq/baton/tools/policybench"
)

// runDirectory writes a generated organisation's directory file: what the
// organisation-size figures load, for trying Baton at 4,000 or 100,000 users with
// starter directory load or dev demo --directory.
func runDirectory(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev directory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 4000, "users in the directory")
	every := fs.Int("every", 10, "every this-many-th user holds every stage permission (10: 10 % eligible; 1: everyone)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *users < 1 || *every < 1 {
		fmt.Fprintf(stderr, "dev directory: --users and --every must be at least 1, got %d and %d\n", *users, *every)
		return 2
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "dev directory:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := policybench.WriteDirectory(w, policybench.Organisation(*users, *every)); err != nil {
		fmt.Fprintln(stderr, "dev directory:", err)
		return 1
	}
	return 0
}
