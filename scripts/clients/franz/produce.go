package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// inRecord is one line of produce's stdin. A missing or null key or value is a null one; partition
// is given for every record (sent there) or for none (franz-go's default partitioner decides).
type inRecord struct {
	Key       *string  `json:"key"`
	Value     *string  `json:"value"`
	Headers   []header `json:"headers"`
	Partition *int32   `json:"partition"`
}

var codecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// runProduce sends the records of stdin with an idempotent producer (franz-go's default) and
// acks=all, then prints one line per record in input order: its partition and offset, or its error.
// franz-go compresses a batch only when that makes it smaller: give compressible values.
func runProduce(args []string) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	var c common
	c.register(fs)
	topic := fs.String("topic", "", "topic to produce to")
	codec := fs.String("codec", "none", "batch compression: none, gzip, snappy, lz4, zstd")
	linger := fs.Duration("linger", 0, "producer linger")
	autoCreate := fs.Bool("auto-create", false, "let the broker create a missing topic (franz-go does not by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *topic == "" {
		return errors.New("produce needs --topic")
	}
	compression, ok := codecs[*codec]
	if !ok {
		return fmt.Errorf("--codec %q: one of none, gzip, snappy, lz4, zstd", *codec)
	}
	ctx, cancel, err := c.start(time.Second)
	if err != nil {
		return err
	}
	defer cancel()

	var records []*kgo.Record
	manual := 0
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for line := 1; in.Scan(); line++ {
		if len(in.Bytes()) == 0 {
			continue
		}
		var r inRecord
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			return fmt.Errorf("stdin line %d: %w", line, err)
		}
		rec := &kgo.Record{Topic: *topic}
		if r.Key != nil {
			rec.Key = []byte(*r.Key)
		}
		if r.Value != nil {
			rec.Value = []byte(*r.Value)
		}
		for _, h := range r.Headers {
			rh := kgo.RecordHeader{Key: h.Key}
			if h.Value != nil {
				rh.Value = []byte(*h.Value)
			}
			rec.Headers = append(rec.Headers, rh)
		}
		if r.Partition != nil {
			rec.Partition = *r.Partition
			manual++
		}
		records = append(records, rec)
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if manual != 0 && manual != len(records) {
		return errors.New("give a partition for every record or for none")
	}

	opts, err := c.clientOpts()
	if err != nil {
		return err
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(compression),
		kgo.ProducerLinger(*linger),
		kgo.DefaultProduceTopic(*topic),
	)
	if *autoCreate {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	if manual > 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// ProduceSync's results come in the order the records were acknowledged: put them back in
	// the order of stdin.
	index := make(map[*kgo.Record]int, len(records))
	for i, r := range records {
		index[r] = i
	}
	results := make(kgo.ProduceResults, len(records))
	for _, r := range cl.ProduceSync(ctx, records...) {
		results[index[r.Record]] = r
	}
	failed := 0
	for i, r := range results {
		line := map[string]any{"i": i, "topic": r.Record.Topic, "key": nullableString(r.Record.Key)}
		if r.Err != nil {
			failed++
			line["error"] = errName(r.Err)
		} else {
			line["partition"] = r.Record.Partition
			line["offset"] = r.Record.Offset
			line["producerId"] = r.Record.ProducerID
			line["producerEpoch"] = r.Record.ProducerEpoch
			line["timestamp"] = r.Record.Timestamp.UnixMilli()
		}
		emit(line)
	}
	emit(map[string]any{"done": true, "produced": len(records) - failed, "failed": failed, "codec": *codec})
	if failed > 0 {
		return fmt.Errorf("%d of %d records failed", failed, len(records))
	}
	return nil
}
