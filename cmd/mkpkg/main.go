// Command mkpkg builds the Debian packages of cmdbd and cmdb-agent into a
// directory (scripts/package runs it):
//
//	go run ./cmd/mkpkg --version 1.4.0 --commit "$(git rev-parse HEAD)" --out dist
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/schulit/cmdb/internal/pkgbuild"
)

func main() {
	version := flag.String("version", "", "Debian package version, e.g. 1.4.0 (required)")
	commit := flag.String("commit", "", "VCS revision the binaries report")
	out := flag.String("out", "dist", "directory for the .deb files")
	arches := flag.String("arch", strings.Join(pkgbuild.Arches, ","), "comma-separated GOARCH values")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mkpkg: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pkgs, err := pkgbuild.Build(ctx, pkgbuild.Options{Version: *version, Commit: *commit,
		Arches: strings.Split(*arches, ","), OutDir: *out, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
	for _, p := range pkgs {
		fmt.Println(p.Path)
	}
}
