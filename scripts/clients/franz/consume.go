package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var balancers = map[string]func() kgo.GroupBalancer{
	"cooperative-sticky": kgo.CooperativeStickyBalancer, "sticky": kgo.StickyBalancer,
	"range": kgo.RangeBalancer, "roundrobin": kgo.RoundRobinBalancer,
}

// runConsume is one consumer group member. It consumes until it has --count records, or stdin
// ends (--stop-on-eof), or the deadline; then commits what it consumed, leaves the group and says
// why it stopped. Lines: "assigned"/"revoked"/"lost" (with the member's whole assignment after
// the change), "record", "fetch-error", "commit", "done".
func runConsume(args []string) error {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	var c common
	c.register(fs)
	var topics strs
	fs.Var(&topics, "topic", "topic to consume (repeatable)")
	group := fs.String("group", "", "consumer group")
	count := fs.Int("count", 0, "stop after this many records (0: no limit)")
	stopOnEOF := fs.Bool("stop-on-eof", false, "stop when stdin ends")
	protocol := fs.String("protocol", "classic", "group protocol: classic (JoinGroup/SyncGroup) or consumer (KIP-848, server-side assignment)")
	balancer := fs.String("balancer", "cooperative-sticky", "classic: cooperative-sticky, sticky, range, roundrobin; consumer: cooperative-sticky or sticky (server assignor uniform), range")
	reset := fs.String("reset", "start", "where a partition without a committed offset starts: start or end")
	instanceID := fs.String("instance-id", "", "static membership (KIP-345)")
	sessionTimeout := fs.Duration("session-timeout", 10*time.Second, "classic session timeout")
	heartbeat := fs.Duration("heartbeat-interval", 500*time.Millisecond, "classic heartbeat interval")
	fetchMaxWait := fs.Duration("fetch-max-wait", 200*time.Millisecond, "fetch max wait")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *group == "" || len(topics) == 0 {
		return errors.New("consume needs --group and --topic")
	}
	if *count <= 0 && !*stopOnEOF {
		return errors.New("consume needs --count or --stop-on-eof (or both)")
	}
	newBalancer, ok := balancers[*balancer]
	if !ok {
		return fmt.Errorf("--balancer %q: one of cooperative-sticky, sticky, range, roundrobin", *balancer)
	}
	var resetOffset kgo.Offset
	switch *reset {
	case "start":
		resetOffset = kgo.NewOffset().AtStart()
	case "end":
		resetOffset = kgo.NewOffset().AtEnd()
	default:
		return fmt.Errorf("--reset %q: start or end", *reset)
	}
	// The commit and the leave get up to 5 s of the deadline.
	ctx, cancel, err := c.start(5 * time.Second)
	if err != nil {
		return err
	}
	defer cancel()

	var mu sync.Mutex
	current := map[string]map[int32]bool{}
	change := func(event string, ps map[string][]int32, add bool) {
		mu.Lock()
		defer mu.Unlock()
		for t, list := range ps {
			for _, p := range list {
				if add {
					if current[t] == nil {
						current[t] = map[int32]bool{}
					}
					current[t][p] = true
				} else {
					delete(current[t], p)
				}
			}
			if len(current[t]) == 0 {
				delete(current, t)
			}
		}
		emit(map[string]any{"event": event, "partitions": sortAssigned(ps), "current": sortedAssignment(current)})
	}
	commit := func(ctx context.Context, cl *kgo.Client, why string) {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		err := cl.CommitUncommittedOffsets(cctx)
		committed := map[string]map[string]int64{}
		for t, ps := range cl.CommittedOffsets() {
			committed[t] = map[string]int64{}
			for p, o := range ps {
				committed[t][strconv.Itoa(int(p))] = o.Offset
			}
		}
		emit(map[string]any{"event": "commit", "why": why, "error": errName(err), "committed": committed})
	}

	opts, err := c.clientOpts()
	if err != nil {
		return err
	}
	opts = append(opts,
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(resetOffset),
		kgo.Balancers(newBalancer()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(*sessionTimeout),
		kgo.HeartbeatInterval(*heartbeat),
		kgo.FetchMaxWait(*fetchMaxWait),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			change("assigned", ps, true)
		}),
		// Commit what was consumed from partitions before they go to another member.
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
			commit(ctx, cl, "revoked")
			change("revoked", ps, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			change("lost", ps, false)
		}),
	)
	switch *protocol {
	case "classic":
	case "consumer":
		opts = append(opts, kgo.ServerSideBalancer())
	default:
		return fmt.Errorf("--protocol %q: classic or consumer", *protocol)
	}
	if *instanceID != "" {
		opts = append(opts, kgo.InstanceID(*instanceID))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var eof sync.Once
	sawEOF := false
	if *stopOnEOF {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			eof.Do(func() { sawEOF = true })
			stopPolling()
		}()
	}

	got := 0
	reason := ""
	for reason == "" {
		limit := 0
		if *count > 0 {
			limit = *count - got
		}
		fetches := cl.PollRecords(pollCtx, limit)
		fetches.EachRecord(func(r *kgo.Record) {
			got++
			emit(map[string]any{
				"event": "record", "topic": r.Topic, "partition": r.Partition, "offset": r.Offset,
				"key": nullableString(r.Key), "value": nullableString(r.Value), "headers": headersOf(r),
				"timestamp": r.Timestamp.UnixMilli(), "leaderEpoch": r.LeaderEpoch,
				"compression": r.Attrs.CompressionType(),
			})
		})
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			emit(map[string]any{"event": "fetch-error", "topic": t, "partition": p, "error": errName(err)})
			if errors.Is(err, kgo.ErrClientClosed) {
				reason = "closed"
			}
		})
		switch {
		case *count > 0 && got >= *count:
			reason = "count"
		case pollCtx.Err() != nil:
			eof.Do(func() {})
			if sawEOF {
				reason = "eof"
			} else {
				reason = "deadline"
			}
		}
	}

	// The client's own context, not the run's (which may have ended): the commit is bounded by 5 s
	// and the whole process by the watchdog.
	commit(context.Background(), cl, "done")
	memberID, generation := cl.GroupMetadata()
	cl.Close()
	emit(map[string]any{"event": "done", "records": got, "reason": reason, "memberId": memberID, "generation": generation})
	return nil
}

func sortAssigned(ps map[string][]int32) map[string][]int32 {
	set := map[string]map[int32]bool{}
	for t, list := range ps {
		set[t] = map[int32]bool{}
		for _, p := range list {
			set[t][p] = true
		}
	}
	return sortedAssignment(set)
}
