// Command franz drives tskafka with franz-go (github.com/twmb/franz-go), for the broker's tests.
//
//	franz admin   <op> --brokers HOST:PORT [flags]   kadm: topics, configs, groups, offsets, api versions
//	franz produce --brokers HOST:PORT --topic T [--codec C]   records as JSON lines on stdin
//	franz consume --brokers HOST:PORT --group G --topic T [--count N] [--protocol classic|consumer]
//
// Everything it prints on stdout is JSON, one object a line; franz-go's own log goes to stderr
// (--log-level). Every run is bounded by --deadline, and the client dials loopback addresses only.
// Build from the repository root: go build -o .cache/go/bin/franz ./scripts/clients/franz
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func usage() {
	fmt.Fprintln(os.Stderr, `usage: franz admin|produce|consume [flags]   (franz <command> -h for the flags)`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "admin":
		err = runAdmin(os.Args[2:])
	case "produce":
		err = runProduce(os.Args[2:])
	case "consume":
		err = runConsume(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		emit(map[string]any{"error": err.Error()})
		fmt.Fprintln(os.Stderr, "franz:", err)
		os.Exit(1)
	}
}

// common holds the flags every command has.
type common struct {
	brokers  string
	deadline time.Duration
	logLevel string
	clientID string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:9092", "bootstrap brokers, comma separated (loopback only)")
	fs.DurationVar(&c.deadline, "deadline", 20*time.Second, "the whole run is bounded by this")
	fs.StringVar(&c.logLevel, "log-level", "warn", "franz-go log level on stderr: none, error, warn, info, debug")
	fs.StringVar(&c.clientID, "client-id", "tskafka-franz", "client.id")
}

// start checks the flags, arms a watchdog that ends the process at the deadline whatever it is
// doing, and returns a context that ends a little earlier so the command can finish cleanly.
func (c *common) start(reserve time.Duration) (context.Context, context.CancelFunc, error) {
	if c.deadline <= 0 {
		return nil, nil, errors.New("--deadline must be positive")
	}
	for _, b := range strings.Split(c.brokers, ",") {
		host, _, err := net.SplitHostPort(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--brokers %q: %w", b, err)
		}
		if !isLoopback(host) {
			return nil, nil, fmt.Errorf("--brokers %q: not a loopback address", b)
		}
	}
	time.AfterFunc(c.deadline, func() {
		emit(map[string]any{"error": fmt.Sprintf("deadline of %s reached", c.deadline)})
		os.Exit(3)
	})
	if reserve > c.deadline/3 {
		reserve = c.deadline / 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.deadline-reserve)
	return ctx, cancel, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialLoopback refuses any address the broker's metadata might name that is not loopback.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("refusing to dial %s: not a loopback address", addr)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, network, addr)
}

func (c *common) clientOpts() ([]kgo.Opt, error) {
	levels := map[string]kgo.LogLevel{
		"none": kgo.LogLevelNone, "error": kgo.LogLevelError, "warn": kgo.LogLevelWarn,
		"info": kgo.LogLevelInfo, "debug": kgo.LogLevelDebug,
	}
	level, ok := levels[c.logLevel]
	if !ok {
		return nil, fmt.Errorf("--log-level %q: one of none, error, warn, info, debug", c.logLevel)
	}
	return []kgo.Opt{
		kgo.SeedBrokers(strings.Split(c.brokers, ",")...),
		kgo.Dialer(dialLoopback),
		kgo.ClientID(c.clientID),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, level, nil)),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RetryTimeout(c.deadline),
	}, nil
}

// --- output ---

var outMu sync.Mutex

// emit writes one JSON line to stdout (unbuffered, so a reader sees each line as it happens).
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"error": "encoding output: " + err.Error()})
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// errName is a Kafka error's name (TOPIC_ALREADY_EXISTS, ...), another error's text, or nil.
func errName(err error) any {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}

// strs collects a repeated string flag.
type strs []string

func (s *strs) String() string     { return strings.Join(*s, ",") }
func (s *strs) Set(v string) error { *s = append(*s, v); return nil }

// keyValues parses repeated k=v flags.
func keyValues(flagName string, in []string) (map[string]string, []string, error) {
	out := make(map[string]string, len(in))
	var order []string
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("--%s %q: want key=value", flagName, kv)
		}
		if _, dup := out[k]; !dup {
			order = append(order, k)
		}
		out[k] = v
	}
	return out, order, nil
}

// header is a record header as it appears in our JSON.
type header struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

func headersOf(r *kgo.Record) []header {
	hs := make([]header, 0, len(r.Headers))
	for _, h := range r.Headers {
		hdr := header{Key: h.Key}
		if h.Value != nil {
			v := string(h.Value)
			hdr.Value = &v
		}
		hs = append(hs, hdr)
	}
	return hs
}

func nullableString(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// sortedAssignment is the JSON form of a set of partitions per topic, each list sorted.
func sortedAssignment(m map[string]map[int32]bool) map[string][]int32 {
	out := make(map[string][]int32, len(m))
	for t, ps := range m {
		list := make([]int32, 0, len(ps))
		for p := range ps {
			list = append(list, p)
		}
		slices.Sort(list)
		out[t] = list
	}
	return out
}
