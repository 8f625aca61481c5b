// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/hushchat/hush/pkg/core"
)

// handOver gives a command to the profile's running hush listen. It
// reports done=false if no hush listen answers; otherwise the command's
// output has been written and err carries its exit code.
func (a *app) handOver(ctx context.Context, cmd *command, args []string) (done bool, err error) {
	req := request{Cmd: cmd.name, Args: args, Dir: a.wd, StderrTTY: a.stderrTTY()}
	var (
		onProgress func(progress)
		queued     bool // a progress line came: the upload is queued
		sink       progressSink
	)
	if cmd.upload {
		if req.StderrTTY {
			sink = newBarSink(a.stderr)
		}
		onProgress = func(p progress) {
			queued = true
			if sink != nil {
				sink.update(p)
			}
		}
	}
	resp, err := callProgress(ctx, socketPath(a.g.profile), req, onProgress)
	if sink != nil {
		sink.end()
	}
	if errors.Is(err, errNoListener) {
		return false, nil
	}
	if err != nil && queued && ctx.Err() != nil {
		return true, withHint(errors.New("interrupted; the upload is queued"),
			"the running hush listen goes on with the upload and then sends the message")
	}
	if err != nil {
		return true, err
	}
	if a.g.network != "" {
		warnf(a.stderr, "--network was ignored: the running hush listen uses its own network file")
	}
	io.WriteString(a.stdout, resp.Stdout)
	io.WriteString(a.stderr, resp.Stderr)
	if resp.Exit != exitOK {
		return true, exitCode(resp.Exit)
	}
	return true, nil
}

// remoteHandler runs requests on hush listen's client, with the output
// the command would have printed in its own process.
func remoteHandler(c *core.Client) handler {
	return func(ctx context.Context, req request, sendProgress func(progress)) response {
		cmd := lookup(req.Cmd)
		switch {
		case cmd == nil:
			return response{Exit: exitUsage, Error: "unknown command " + clean(req.Cmd)}
		case cmd.parse == nil:
			return response{Exit: exitUsage, Error: "hush " + cmd.name + " cannot run inside hush listen"}
		}
		var stdout, stderr bytes.Buffer
		act, err := cmd.parse(cmd, req.Args)
		if err == nil {
			e := &env{
				client: c, stdout: &stdout, stderr: &stderr, dir: req.Dir,
				stderrTTY: req.StderrTTY, remote: true, now: time.Now, loc: time.Local,
			}
			if sendProgress != nil {
				e.progress = &lineSink{send: sendProgress}
			}
			err = act(ctx, e)
		}
		code := report(&stderr, err)
		return response{Stdout: stdout.String(), Stderr: stderr.String(), Exit: code}
	}
}
