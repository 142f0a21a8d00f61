package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const adminOps = "create, list, describe-configs, alter-configs, list-groups, describe-groups, " +
	"describe-consumer-groups, fetch-offsets, end-offsets, delete-groups, delete-topics, api-versions"

// runAdmin runs one kadm operation and prints one JSON line per topic, group or broker it
// answers for, each with "op" naming the operation.
func runAdmin(args []string) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return fmt.Errorf("admin needs an operation first: %s", adminOps)
	}
	op := args[0]
	fs := flag.NewFlagSet("admin "+op, flag.ContinueOnError)
	var c common
	c.register(fs)
	var topics, groups, configs, sets, deletes, appends, subtracts, types, states strs
	fs.Var(&topics, "topic", "a topic (repeatable)")
	fs.Var(&groups, "group", "a group (repeatable)")
	partitions := fs.Int("partitions", -1, "create: partitions (-1: the broker's num.partitions)")
	replication := fs.Int("replication-factor", -1, "create: replication factor (-1: the broker's default)")
	fs.Var(&configs, "config", "create: a topic config key=value (repeatable)")
	fs.Var(&sets, "set", "alter-configs: key=value to set (repeatable)")
	fs.Var(&deletes, "delete", "alter-configs: key to reset to its default (repeatable)")
	fs.Var(&appends, "append", "alter-configs: key=value to append to a list config (repeatable)")
	fs.Var(&subtracts, "subtract", "alter-configs: key=value to remove from a list config (repeatable)")
	state := fs.Bool("state", false, "alter-configs: replace the whole config with --set (AlterConfigs) instead of altering incrementally")
	internal := fs.Bool("internal", false, "list: include internal topics")
	fs.Var(&types, "type", "list-groups: only groups of this type (classic, consumer; repeatable)")
	fs.Var(&states, "state-filter", "list-groups: only groups in this state (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, cancel, err := c.start(2 * time.Second)
	if err != nil {
		return err
	}
	defer cancel()
	opts, err := c.clientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	switch op {
	case "create":
		return adminCreate(ctx, adm, topics, int32(*partitions), int16(*replication), configs)
	case "list":
		return adminList(ctx, adm, topics, *internal)
	case "describe-configs":
		return adminDescribeConfigs(ctx, adm, topics)
	case "alter-configs":
		return adminAlterConfigs(ctx, adm, topics, *state, sets, deletes, appends, subtracts)
	case "list-groups":
		listed, err := adm.ListGroupsByType(ctx, types, states...)
		if err != nil {
			return err
		}
		for _, g := range listed.Sorted() {
			emit(map[string]any{"op": op, "group": g.Group, "type": g.GroupType, "protocolType": g.ProtocolType, "state": g.State, "coordinator": g.Coordinator})
		}
		return nil
	case "describe-groups":
		return adminDescribeGroups(ctx, adm, groups)
	case "describe-consumer-groups":
		return adminDescribeConsumerGroups(ctx, adm, groups)
	case "fetch-offsets":
		if len(groups) == 0 {
			return errors.New("fetch-offsets needs --group")
		}
		for _, g := range groups {
			resp, err := adm.FetchOffsets(ctx, g)
			line := map[string]any{"op": op, "group": g, "error": errName(err)}
			offsets := map[string]map[string]int64{}
			errs := []string{}
			resp.Each(func(o kadm.OffsetResponse) {
				if o.Err != nil {
					errs = append(errs, fmt.Sprintf("%s[%d]: %v", o.Topic, o.Partition, errName(o.Err)))
					return
				}
				if offsets[o.Topic] == nil {
					offsets[o.Topic] = map[string]int64{}
				}
				offsets[o.Topic][strconv.Itoa(int(o.Partition))] = o.At
			})
			line["offsets"] = offsets
			line["partitionErrors"] = errs
			emit(line)
		}
		return nil
	case "end-offsets":
		if len(topics) == 0 {
			return errors.New("end-offsets needs --topic")
		}
		listed, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil {
			return err
		}
		for _, t := range topics {
			offsets := map[string]int64{}
			errs := []string{}
			for p, o := range listed[t] {
				if o.Err != nil {
					errs = append(errs, fmt.Sprintf("%d: %v", p, errName(o.Err)))
					continue
				}
				offsets[strconv.Itoa(int(p))] = o.Offset
			}
			emit(map[string]any{"op": op, "topic": t, "offsets": offsets, "partitionErrors": errs})
		}
		return nil
	case "delete-groups":
		resp, err := adm.DeleteGroups(ctx, groups...)
		if err != nil {
			return err
		}
		for _, g := range groups {
			r, ok := resp[g]
			if !ok {
				emit(map[string]any{"op": op, "group": g, "error": "missing from the response"})
				continue
			}
			emit(map[string]any{"op": op, "group": g, "error": errName(r.Err)})
		}
		return nil
	case "delete-topics":
		if len(topics) == 0 {
			return errors.New("delete-topics needs --topic")
		}
		resp, err := adm.DeleteTopics(ctx, topics...)
		if err != nil {
			return err
		}
		for _, t := range topics {
			r, ok := resp[t]
			if !ok {
				emit(map[string]any{"op": op, "topic": t, "error": "missing from the response"})
				continue
			}
			emit(map[string]any{"op": op, "topic": t, "id": r.ID.String(), "error": errName(r.Err), "message": r.ErrMessage})
		}
		return nil
	case "api-versions":
		vs, err := adm.ApiVersions(ctx)
		if err != nil {
			return err
		}
		for _, v := range vs.Sorted() {
			keys := map[string]any{}
			v.EachKeySorted(func(key, lo, hi int16) {
				keys[kmsg.NameForKey(key)] = map[string]int16{"key": key, "min": lo, "max": hi}
			})
			emit(map[string]any{"op": op, "node": v.NodeID, "error": errName(v.Err), "apis": keys})
		}
		return nil
	default:
		return fmt.Errorf("unknown admin operation %q: one of %s", op, adminOps)
	}
}

func adminCreate(ctx context.Context, adm *kadm.Client, topics []string, partitions int32, replication int16, configFlags []string) error {
	if len(topics) == 0 {
		return errors.New("create needs --topic")
	}
	kv, _, err := keyValues("config", configFlags)
	if err != nil {
		return err
	}
	configs := make(map[string]*string, len(kv))
	for k, v := range kv {
		configs[k] = kadm.StringPtr(v)
	}
	resp, err := adm.CreateTopics(ctx, partitions, replication, configs, topics...)
	if err != nil {
		return err
	}
	for _, t := range topics {
		r, ok := resp[t]
		if !ok {
			emit(map[string]any{"op": "create", "topic": t, "error": "missing from the response"})
			continue
		}
		got := map[string]any{}
		for k, c := range r.Configs {
			got[k] = c.Value
		}
		emit(map[string]any{
			"op": "create", "topic": t, "id": r.ID.String(), "error": errName(r.Err), "message": r.ErrMessage,
			"partitions": r.NumPartitions, "replicationFactor": r.ReplicationFactor, "configs": got,
		})
	}
	return nil
}

func adminList(ctx context.Context, adm *kadm.Client, topics []string, internal bool) error {
	var details kadm.TopicDetails
	var err error
	if internal {
		details, err = adm.ListTopicsWithInternal(ctx, topics...)
	} else {
		details, err = adm.ListTopics(ctx, topics...)
	}
	if err != nil {
		return err
	}
	for _, t := range details.Sorted() {
		parts := []map[string]any{}
		for _, p := range t.Partitions.Sorted() {
			parts = append(parts, map[string]any{
				"partition": p.Partition, "leader": p.Leader, "leaderEpoch": p.LeaderEpoch,
				"replicas": p.Replicas, "isr": p.ISR, "error": errName(p.Err),
			})
		}
		emit(map[string]any{"op": "list", "topic": t.Topic, "id": t.ID.String(), "internal": t.IsInternal, "error": errName(t.Err), "partitions": parts})
	}
	return nil
}

func adminDescribeConfigs(ctx context.Context, adm *kadm.Client, topics []string) error {
	if len(topics) == 0 {
		return errors.New("describe-configs needs --topic")
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		var se *kadm.ShardErrors
		if !errors.As(err, &se) || len(rcs) == 0 {
			return err
		}
	}
	for _, rc := range rcs {
		configs := map[string]any{}
		for _, c := range rc.Configs {
			syn := []map[string]any{}
			for _, s := range c.Synonyms {
				syn = append(syn, map[string]any{"key": s.Key, "value": s.Value, "source": s.Source.String()})
			}
			configs[c.Key] = map[string]any{"value": c.Value, "source": c.Source.String(), "sensitive": c.Sensitive, "synonyms": syn}
		}
		emit(map[string]any{"op": "describe-configs", "topic": rc.Name, "error": errName(rc.Err), "message": rc.ErrMessage, "configs": configs})
	}
	return nil
}

func adminAlterConfigs(ctx context.Context, adm *kadm.Client, topics []string, state bool, sets, deletes, appends, subtracts []string) error {
	if len(topics) == 0 {
		return errors.New("alter-configs needs --topic")
	}
	var alters []kadm.AlterConfig
	add := func(flagName string, op kadm.IncrementalOp, in []string) error {
		kv, order, err := keyValues(flagName, in)
		if err != nil {
			return err
		}
		for _, k := range order {
			alters = append(alters, kadm.AlterConfig{Op: op, Name: k, Value: kadm.StringPtr(kv[k])})
		}
		return nil
	}
	if err := add("set", kadm.SetConfig, sets); err != nil {
		return err
	}
	if err := add("append", kadm.AppendConfig, appends); err != nil {
		return err
	}
	if err := add("subtract", kadm.SubtractConfig, subtracts); err != nil {
		return err
	}
	for _, k := range deletes {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	var resp kadm.AlterConfigsResponses
	var err error
	if state {
		if len(deletes)+len(appends)+len(subtracts) > 0 {
			return errors.New("--state takes only --set: the configs not named go back to their defaults")
		}
		resp, err = adm.AlterTopicConfigsState(ctx, alters, topics...)
	} else {
		resp, err = adm.AlterTopicConfigs(ctx, alters, topics...)
	}
	if err != nil {
		var se *kadm.ShardErrors
		if !errors.As(err, &se) || len(resp) == 0 {
			return err
		}
	}
	for _, t := range topics {
		r, err := resp.On(t, nil)
		if err != nil {
			emit(map[string]any{"op": "alter-configs", "topic": t, "error": "missing from the response"})
			continue
		}
		emit(map[string]any{"op": "alter-configs", "topic": t, "api": map[bool]string{true: "AlterConfigs", false: "IncrementalAlterConfigs"}[state], "error": errName(r.Err), "message": r.ErrMessage})
	}
	return nil
}

func topicsSet(s kadm.TopicsSet) map[string][]int32 {
	out := map[string][]int32{}
	for t, ps := range s {
		list := make([]int32, 0, len(ps))
		for p := range ps {
			list = append(list, p)
		}
		slices.Sort(list)
		out[t] = list
	}
	return out
}

func adminDescribeGroups(ctx context.Context, adm *kadm.Client, groups []string) error {
	described, err := adm.DescribeGroups(ctx, groups...)
	if err != nil {
		var se *kadm.ShardErrors
		if !errors.As(err, &se) || len(described) == 0 {
			return err
		}
	}
	for _, g := range described.Sorted() {
		members := []map[string]any{}
		for _, m := range g.Members {
			member := map[string]any{"memberId": m.MemberID, "instanceId": m.InstanceID, "clientId": m.ClientID, "clientHost": m.ClientHost}
			if meta, ok := m.Join.AsConsumer(); ok {
				member["topics"] = meta.Topics
			}
			if a, ok := m.Assigned.AsConsumer(); ok {
				assigned := map[string][]int32{}
				for _, t := range a.Topics {
					ps := slices.Clone(t.Partitions)
					slices.Sort(ps)
					assigned[t.Topic] = ps
				}
				member["assigned"] = assigned
			}
			members = append(members, member)
		}
		emit(map[string]any{
			"op": "describe-groups", "group": g.Group, "error": errName(g.Err), "message": g.ErrMessage, "state": g.State,
			"protocolType": g.ProtocolType, "protocol": g.Protocol, "members": members,
		})
	}
	return nil
}

func adminDescribeConsumerGroups(ctx context.Context, adm *kadm.Client, groups []string) error {
	if len(groups) == 0 {
		return errors.New("describe-consumer-groups needs --group")
	}
	described, err := adm.DescribeConsumerGroups(ctx, groups...)
	if err != nil {
		var se *kadm.ShardErrors
		if !errors.As(err, &se) || len(described) == 0 {
			return err
		}
	}
	for _, g := range groups {
		d, ok := described[g]
		if !ok {
			emit(map[string]any{"op": "describe-consumer-groups", "group": g, "error": "missing from the response"})
			continue
		}
		members := []map[string]any{}
		for _, m := range d.Members {
			members = append(members, map[string]any{
				"memberId": m.MemberID, "instanceId": m.InstanceID, "clientId": m.ClientID, "memberEpoch": m.MemberEpoch,
				"subscribedTopics": m.SubscribedTopics, "assigned": topicsSet(m.Assignment), "target": topicsSet(m.TargetAssignment),
			})
		}
		emit(map[string]any{
			"op": "describe-consumer-groups", "group": g, "error": errName(d.Err), "state": d.State, "epoch": d.Epoch,
			"assignmentEpoch": d.AssignmentEpoch, "assignor": d.AssignorName, "members": members,
		})
	}
	return nil
}
