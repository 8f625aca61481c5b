// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build linux

package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// checkPeer checks that the process at the other end of a unix socket
// runs as this user (SO_PEERCRED). The 0700 profile directory and the
// 0600 socket already keep other users out; this also holds if someone
// loosened them.
func checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var (
		cred *unix.Ucred
		cerr error
	)
	err = raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("check the socket's peer: %w", err)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("the socket's peer runs as uid %d, not as this user", cred.Uid)
	}
	return nil
}
