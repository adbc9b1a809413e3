//go:build !linux

package bench

import "syscall"

// childAttr is the baseline's process attributes: the defaults here.
func childAttr() *syscall.SysProcAttr { return nil }
