// SPDX-License-Identifier: AGPL-3.0-or-later

package relaynet

import (
	"errors"
	"fmt"

	"github.com/hushchat/hush/pkg/onion"
)

// Errors callers branch on with errors.Is. Each comes wrapped with what
// was tried and what each relay said.
var (
	// ErrConfig is returned by New for an unusable Config.
	ErrConfig = errors.New("relaynet: bad configuration")
	// ErrNoRelays is returned by New and SetNetwork's next Refresh for a
	// network file that lists no relay.
	ErrNoRelays = errors.New("relaynet: the network file lists no relays (get one from your relay operators, or run hush-relay devnet)")
	// ErrUnreachable is returned when no relay of the network file gave a
	// directory that verifies.
	ErrUnreachable = errors.New("relaynet: no relay of the network file answered")
	// ErrExitUnreachable is returned by Ask when the exit itself failed on
	// the last path tried: the relay hosting the queue or chunk is down or
	// refuses to be reached. Other paths were tried first.
	ErrExitUnreachable = errors.New("relaynet: the exit relay cannot be reached")
	// ErrUnknownExit is returned by Ask for an exit that is not in the
	// network file, or has no usable descriptor in the directory even
	// after a refresh (it left the network, or its keys expired).
	ErrUnknownExit = errors.New("relaynet: the exit relay is not in the current directory")
	// ErrNoPath is returned by Ask when no path can be built: too few
	// relays are usable (both entry guards known down, or the network too
	// small). The client should keep its request and try again later.
	ErrNoPath = errors.New("relaynet: no path to the exit")
	// ErrNoRelay is returned by RandomRelay when no relay is left to choose.
	ErrNoRelay = errors.New("relaynet: no usable relay to choose")

	// ErrRelayDown is wrapped by a *HopError for a relay that could not be
	// reached, did not answer in time, or failed inside.
	ErrRelayDown = errors.New("relaynet: a relay of the path is down")
	// ErrRelayOverloaded is wrapped by a *HopError for a relay over capacity.
	ErrRelayOverloaded = errors.New("relaynet: a relay of the path is overloaded")
	// ErrRelayRefused is wrapped by a *HopError for a relay that dropped
	// the packet (not for its onion key, or tampered with), or an exit
	// that refused the request.
	ErrRelayRefused = errors.New("relaynet: a relay of the path refused the packet")
)

// HopError says which relay of a path failed and how. It is Ask's final
// error when every path failed at a relay other than the exit, and is
// wrapped in the ErrExitUnreachable error when the exit failed.
//
// Blame follows the code the client got back: a hop that reports
// CodeUnreachable, CodeTimeout or CodeRefused is telling about the next
// relay of the path, so that one failed; CodeOverloaded and CodeInternal
// are about the hop that sent them. A transport error on the way to the
// entry is the entry's.
type HopError struct {
	Hop   int           // position of the failed relay: 0 is the entry, Hops-1 the exit
	Hops  int           // length of the path
	Relay onion.RelayID // the failed relay
	Code  onion.Code    // what happened to it
	// Err is the transport's error when the entry could not be reached,
	// nil when the failure came back inside the onion.
	Err error

	by int // the hop that reported it; -1 for the client's own transport
}

// Error names the relay, its place in the path and what happened.
func (e *HopError) Error() string {
	s := fmt.Sprintf("relaynet: relay %s (%s, hop %d of %d) %s", e.Relay, e.role(), e.Hop+1, e.Hops, codeText(e.Code, e.exitRefused()))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel for the code (ErrRelayDown,
// ErrRelayOverloaded or ErrRelayRefused) and the transport's error, if any.
func (e *HopError) Unwrap() []error {
	errs := []error{codeSentinel(e.Code)}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// IsExit reports whether the failed relay is the exit.
func (e *HopError) IsExit() bool { return e.Hop == e.Hops-1 }

// exitRefused reports whether the exit itself refused the request, as
// opposed to the hop before it reporting that the exit dropped the packet.
func (e *HopError) exitRefused() bool {
	return e.Code == onion.CodeRefused && e.IsExit() && e.by == e.Hop
}

func (e *HopError) role() string {
	switch {
	case e.Hop == e.Hops-1:
		return "the exit"
	case e.Hop == 0:
		return "the entry"
	default:
		return "a middle"
	}
}

func codeText(c onion.Code, exitRefused bool) string {
	switch c {
	case onion.CodeUnreachable:
		return "could not be reached"
	case onion.CodeTimeout:
		return "did not answer in time"
	case onion.CodeRefused:
		if exitRefused {
			return "refused the request"
		}
		return "dropped the packet (not for its onion keys, or damaged)"
	case onion.CodeOverloaded:
		return "is overloaded"
	case onion.CodeInternal:
		return "failed (internal error)"
	default:
		return "failed (" + c.String() + ")"
	}
}

func codeSentinel(c onion.Code) error {
	switch c {
	case onion.CodeOverloaded:
		return ErrRelayOverloaded
	case onion.CodeRefused:
		return ErrRelayRefused
	default:
		return ErrRelayDown
	}
}
