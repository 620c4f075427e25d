package rpc

import (
	"maps"
	"slices"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

func autoHandoffToProto(p domain.AutoHandoffPolicy) *batonv1.AutoHandoffPolicy {
	if p.IsZero() && p.QueueID == "" {
		return nil
	}
	out := &batonv1.AutoHandoffPolicy{
		NotUnderstoodLimit: int32(p.NotUnderstoodLimit),
		HumanWordsEnabled:  p.HumanWordsOn,
		UnansweredTimeout:  duration(p.UnansweredTimeout),
		QueueId:            p.QueueID,
		QueueAnyway:        p.QueueAnyway,
	}
	for _, lang := range slices.Sorted(maps.Keys(p.HumanWords)) {
		out.HumanWords = append(out.HumanWords, &batonv1.HumanWords{Language: lang, Words: slices.Clone(p.HumanWords[lang])})
	}
	return out
}

// autoHandoffToDomain converts a policy; nil is the zero policy, which does nothing.
func autoHandoffToDomain(p *batonv1.AutoHandoffPolicy) domain.AutoHandoffPolicy {
	if p == nil {
		return domain.AutoHandoffPolicy{}
	}
	out := domain.AutoHandoffPolicy{
		NotUnderstoodLimit: int(p.GetNotUnderstoodLimit()),
		HumanWordsOn:       p.GetHumanWordsEnabled(),
		UnansweredTimeout:  p.GetUnansweredTimeout().AsDuration(),
		QueueID:            p.GetQueueId(),
		QueueAnyway:        p.GetQueueAnyway(),
	}
	for _, w := range p.GetHumanWords() {
		if out.HumanWords == nil {
			out.HumanWords = map[string][]string{}
		}
		out.HumanWords[w.GetLanguage()] = append(out.HumanWords[w.GetLanguage()], w.GetWords()...)
	}
	return out
}

func queueSLAToProto(s domain.QueueSLA) *batonv1.QueueSla {
	if s == (domain.QueueSLA{}) {
		return nil
	}
	return &batonv1.QueueSla{
		WaitTarget:       duration(s.WaitTarget),
		FirstReplyTarget: duration(s.FirstReplyTarget),
		RaisePriority:    int32(s.RaisePriority),
		OfferSupervisors: s.OfferSupervisors,
	}
}

func queueSLAToDomain(s *batonv1.QueueSla) domain.QueueSLA {
	return domain.QueueSLA{
		WaitTarget:       s.GetWaitTarget().AsDuration(),
		FirstReplyTarget: s.GetFirstReplyTarget().AsDuration(),
		RaisePriority:    int(s.GetRaisePriority()),
		OfferSupervisors: s.GetOfferSupervisors(),
	}
}

var slaTargets = newEnumTable(map[batonv1.SlaTarget]domain.SLATarget{
	batonv1.SlaTarget_SLA_TARGET_WAIT:        domain.SLAWait,
	batonv1.SlaTarget_SLA_TARGET_FIRST_REPLY: domain.SLAFirstReply,
})

func slaTargetToProto(t domain.SLATarget) batonv1.SlaTarget { return slaTargets.toProto[t] }

func slaBreachToProto(b domain.SLABreach) *batonv1.SlaBreach {
	return &batonv1.SlaBreach{Target: slaTargetToProto(b.Target), QueueId: b.QueueID, Deadline: timestamp(b.Deadline)}
}

// optionalPolicy is the policy an update sets, or nil when the request leaves it.
func optionalPolicy(p *batonv1.AutoHandoffPolicy) *domain.AutoHandoffPolicy {
	if p == nil {
		return nil
	}
	v := autoHandoffToDomain(p)
	return &v
}

// optionalSLA is the SLA an update sets, or nil when the request leaves it.
func optionalSLA(s *batonv1.QueueSla) *domain.QueueSLA {
	if s == nil {
		return nil
	}
	v := queueSLAToDomain(s)
	return &v
}
