//go:build !unix

package main

import "os"

// maxRSS is not measured where rusage has no peak RSS.
func maxRSS(*os.ProcessState) int64 { return 0 }
