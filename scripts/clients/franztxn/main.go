// Command franztxn drives transactions with franz-go (github.com/twmb/franz-go) for the broker's tests
// (broker/test/txn-clients.test.ts): a consume-transform-produce loop in a kgo.GroupTransactSession.
//
//	franztxn --brokers HOST:PORT --input IN --output OUT --group G --txn-id T --count N [--abort-every K]
//
// It creates both topics (3 partitions; existing ones are fine), produces N records to the input
// (key kI, value vI, partition I % 3), then copies the input to the output in transactions that also commit
// the group's offsets (TxnOffsetCommit): every K-th transaction is aborted, after which the session rewinds to
// the group's committed offsets and copies those records again. It stops once N records were copied in
// committed transactions, leaves the group, and reads the output back with read_committed. Everything it
// prints is JSON, one object a line: the transactions as they end, then {"result": ...}. Every run is bounded
// by --deadline, and it dials loopback addresses only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const partitions = 3

func emit(v any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func fail(format string, args ...any) {
	emit(map[string]any{"error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("refusing to dial %s: not a loopback address", addr)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, network, addr)
}

type outRecord struct {
	Partition int32  `json:"partition"`
	Key       string `json:"key"`
	Value     string `json:"value"`
}

func main() {
	fs := flag.NewFlagSet("franztxn", flag.ExitOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "bootstrap brokers (loopback only)")
	input := fs.String("input", "", "input topic")
	output := fs.String("output", "", "output topic")
	group := fs.String("group", "", "consumer group")
	txnID := fs.String("txn-id", "", "transactional id")
	count := fs.Int("count", 300, "records to produce and copy")
	abortEvery := fs.Int("abort-every", 3, "abort every K-th transaction (0: never)")
	deadline := fs.Duration("deadline", 45*time.Second, "the whole run is bounded by this")
	logLevel := fs.String("log-level", "warn", "franz-go log level on stderr: none, error, warn, info, debug")
	_ = fs.Parse(os.Args[1:])
	if *input == "" || *output == "" || *group == "" || *txnID == "" {
		fail("--input, --output, --group and --txn-id are required")
	}
	levels := map[string]kgo.LogLevel{"none": kgo.LogLevelNone, "error": kgo.LogLevelError, "warn": kgo.LogLevelWarn,
		"info": kgo.LogLevelInfo, "debug": kgo.LogLevelDebug}
	time.AfterFunc(*deadline, func() { fail("deadline of %s reached", *deadline) })
	ctx, cancel := context.WithTimeout(context.Background(), *deadline-2*time.Second)
	defer cancel()
	common := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.Dialer(dialLoopback),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, levels[*logLevel], nil)),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}

	// The topics and the input.
	plain, err := kgo.NewClient(common...)
	if err != nil {
		fail("client: %v", err)
	}
	adm := kadm.NewClient(plain)
	created, err := adm.CreateTopics(ctx, partitions, 1, nil, *input, *output)
	if err != nil {
		fail("create topics: %v", err)
	}
	for _, t := range created {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			fail("create topic %s: %v", t.Topic, t.Err)
		}
	}
	var in []*kgo.Record
	for i := 0; i < *count; i++ {
		in = append(in, &kgo.Record{Topic: *input, Partition: int32(i % partitions), Key: []byte(fmt.Sprintf("k%d", i)),
			Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := plain.ProduceSync(ctx, in...).FirstErr(); err != nil {
		fail("produce input: %v", err)
	}

	// Consume, transform, produce: one transaction per poll.
	sess, err := kgo.NewGroupTransactSession(append(common,
		kgo.TransactionalID(*txnID),
		kgo.TransactionTimeout(30*time.Second),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.MaxBufferedRecords(1000),
	)...)
	if err != nil {
		fail("transact session: %v", err)
	}
	copied := map[string]bool{}
	committedTxns, abortedTxns := 0, 0
	for n := 0; len(copied) < *count; n++ {
		if ctx.Err() != nil {
			fail("copied %d of %d before the deadline", len(copied), *count)
		}
		fetches := sess.PollRecords(ctx, 50)
		if errs := fetches.Errors(); len(errs) > 0 {
			fail("poll: %v", errs[0].Err)
		}
		records := fetches.Records()
		if len(records) == 0 {
			n--
			continue
		}
		if err := sess.Begin(); err != nil {
			fail("begin: %v", err)
		}
		values := make([]string, 0, len(records))
		for _, r := range records {
			values = append(values, string(r.Value))
			sess.Produce(ctx, &kgo.Record{Topic: *output, Partition: r.Partition, Key: r.Key,
				Value: append([]byte("copy-"), r.Value...)}, func(_ *kgo.Record, err error) {
				if err != nil {
					emit(map[string]any{"produceError": err.Error()})
				}
			})
		}
		abort := *abortEvery > 0 && n%*abortEvery == *abortEvery-1
		try := kgo.TryCommit
		if abort {
			try = kgo.TryAbort
			// Sent first, so that the aborted records are in the log (an abort drops the buffered ones).
			if err := sess.Client().Flush(ctx); err != nil {
				fail("flush before abort: %v", err)
			}
		}
		committed, err := sess.End(ctx, try)
		if err != nil {
			fail("end transaction %d: %v", n, err)
		}
		emit(map[string]any{"txn": n, "records": len(records), "tryCommit": !abort, "committed": committed})
		if committed {
			committedTxns++
			for _, v := range values {
				if copied[v] {
					fail("record %s copied in two committed transactions", v)
				}
				copied[v] = true
			}
		} else {
			abortedTxns++
		}
	}
	sess.Close()

	// The group's committed offsets (require_stable: the last commit's markers may still be on their way), and
	// the output as read_committed sees it.
	offsets, err := adm.FetchOffsets(kadm.RequireStable(ctx), *group)
	if err != nil {
		fail("fetch offsets: %v", err)
	}
	committed := map[string]int64{}
	offsets.Each(func(o kadm.OffsetResponse) {
		committed[fmt.Sprintf("%s/%d", o.Topic, o.Partition)] = o.At
	})
	readBack := func(level kgo.IsolationLevel) []outRecord {
		reader, err := kgo.NewClient(append(common,
			kgo.ConsumeTopics(*output),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchIsolationLevel(level),
			kgo.FetchMaxWait(200*time.Millisecond),
		)...)
		if err != nil {
			fail("reader: %v", err)
		}
		defer reader.Close()
		var got []outRecord
		// Until the count is reached, then one more second for anything extra.
		var quietUntil time.Time
		for ctx.Err() == nil {
			pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			fetches := reader.PollFetches(pctx)
			pcancel()
			fetches.EachRecord(func(r *kgo.Record) {
				got = append(got, outRecord{Partition: r.Partition, Key: string(r.Key), Value: string(r.Value)})
			})
			if len(got) >= *count && quietUntil.IsZero() {
				quietUntil = time.Now().Add(time.Second)
			}
			if !quietUntil.IsZero() && time.Now().After(quietUntil) {
				break
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Value < got[j].Value })
		return got
	}
	out := readBack(kgo.ReadCommitted())
	uncommitted := readBack(kgo.ReadUncommitted())
	emit(map[string]any{"result": map[string]any{
		"committedTxns":   committedTxns,
		"abortedTxns":     abortedTxns,
		"copied":          len(copied),
		"offsets":         committed,
		"output":          out,
		"uncommittedRead": len(uncommitted),
	}})
	plain.Close()
}
