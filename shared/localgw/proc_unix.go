//go:build unix

package localgw

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the emulator in its own process group, so that
// stopping it also stops the bootstrap it started.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		cmd.Process.Kill()
	}
}
