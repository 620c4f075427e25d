package storetest

import (
	"sync"

	"github.com/batonhq/baton/server/store"
)

// resource describes one kind of row for the tests every kind gets: round trips of full and
// minimal values, updates, deletes, not-found errors, duplicate ids and revisions.
type resource[T any] struct {
	// value returns a new full value, storing the parents it needs.
	value func(h *harness) T
	// minimal returns a new value with only the fields a row cannot do without.
	minimal func(h *harness) T
	// change returns v with every stored field but the id and revision changed.
	change func(h *harness, v T) T
	// stored is v as the store returns it when no other row refers to it: derived fields
	// computed. Nil when nothing is derived.
	stored func(v T) T

	create func(h *harness, tx store.Tx, v T) error
	get    func(h *harness, tx store.Tx, id string) (T, error)
	update func(h *harness, tx store.Tx, v T) error // nil when rows are never updated
	delete func(h *harness, tx store.Tx, id string) error

	id  func(*T) *string
	rev func(*T) *int64 // nil when rows carry no revision
	// lock is the kind Tx.Lock locks these rows as, "" when it does not.
	lock store.Kind
}

func resourceCases[T any](r resource[T]) []testCase {
	cases := []testCase{
		{"RoundTrip", func(h *harness) { testRoundTrip(h, r) }},
		{"Minimal", func(h *harness) { testMinimal(h, r) }},
		{"NotFound", func(h *harness) { testNotFound(h, r) }},
		{"DuplicateID", func(h *harness) { testDuplicateID(h, r) }},
	}
	if r.rev != nil {
		cases = append(cases, testCase{"Revision", func(h *harness) { testRevision(h, r) }})
	}
	if r.lock != "" {
		cases = append(cases, testCase{"LockedUpdates", func(h *harness) { testLockedUpdates(h, r) }})
	}
	return cases
}

func (r resource[T]) want(v T) T {
	if r.stored != nil {
		return r.stored(v)
	}
	return v
}

func (r resource[T]) fetch(h *harness, id string) (T, error) {
	return readValue(h, func(tx store.Tx) (T, error) { return r.get(h, tx, id) })
}

func (r resource[T]) mustFetch(h *harness, id string) T {
	h.t.Helper()
	v, err := r.fetch(h, id)
	if err != nil {
		h.t.Fatalf("get %s: %v", id, err)
	}
	return v
}

func (r resource[T]) put(h *harness, v T) {
	h.t.Helper()
	h.write(func(tx store.Tx) error { return r.create(h, tx, v) })
}

// testRoundTrip stores a full value, reads it back, overwrites every field, reads it back,
// then deletes it.
func testRoundTrip[T any](h *harness, r resource[T]) {
	v := r.value(h)
	id := *r.id(&v)
	r.put(h, v)
	diff(h.t, "created", r.want(v), r.mustFetch(h, id))

	if r.update != nil {
		u := r.change(h, v)
		h.write(func(tx store.Tx) error { return r.update(h, tx, u) })
		if r.rev != nil {
			*r.rev(&u)++
		}
		diff(h.t, "updated", r.want(u), r.mustFetch(h, id))
	}

	if r.delete != nil {
		h.write(func(tx store.Tx) error { return r.delete(h, tx, id) })
		_, err := r.fetch(h, id)
		wantNotFound(h.t, "get after delete", err, id)
	}
}

// testMinimal checks zero fields come back zero; in particular a zero time stays the zero
// time (which time.Time.Equal tells from the Unix epoch).
func testMinimal[T any](h *harness, r resource[T]) {
	v := r.minimal(h)
	r.put(h, v)
	diff(h.t, "minimal", r.want(v), r.mustFetch(h, *r.id(&v)))
}

func testNotFound[T any](h *harness, r resource[T]) {
	r.put(h, r.value(h)) // a row that must not be found instead
	_, err := r.fetch(h, "missing")
	wantNotFound(h.t, "get", err, "missing")
	if r.update != nil {
		v := r.value(h)
		*r.id(&v) = "missing"
		err := h.tryWrite(func(tx store.Tx) error { return r.update(h, tx, v) })
		wantNotFound(h.t, "update", err, "missing")
	}
	if r.delete != nil {
		err := h.tryWrite(func(tx store.Tx) error { return r.delete(h, tx, "missing") })
		wantNotFound(h.t, "delete", err, "missing")
	}
}

// testDuplicateID creates a second, otherwise unrelated row with the id of the first.
func testDuplicateID[T any](h *harness, r resource[T]) {
	first := r.value(h)
	r.put(h, first)
	second := r.change(h, r.value(h))
	*r.id(&second) = *r.id(&first)
	err := h.tryWrite(func(tx store.Tx) error { return r.create(h, tx, second) })
	wantErr(h.t, "create with a taken id", err, store.ErrDuplicate)
	diff(h.t, "first row", r.want(first), r.mustFetch(h, *r.id(&first)))
}

// testRevision checks updates are refused unless they carry the stored revision, which they
// then increment.
func testRevision[T any](h *harness, r resource[T]) {
	v := r.value(h)
	id, rev := *r.id(&v), *r.rev(&v)
	r.put(h, v)

	for _, wrong := range []int64{rev - 1, rev + 1} {
		stale := r.change(h, v)
		*r.rev(&stale) = wrong
		err := h.tryWrite(func(tx store.Tx) error { return r.update(h, tx, stale) })
		wantErr(h.t, "update at a wrong revision", err, store.ErrConflict)
	}
	diff(h.t, "after refused updates", r.want(v), r.mustFetch(h, id))

	u := r.change(h, v)
	h.write(func(tx store.Tx) error { return r.update(h, tx, u) })
	got := r.mustFetch(h, id)
	if *r.rev(&got) != rev+1 {
		h.t.Errorf("revision after update = %d, want %d", *r.rev(&got), rev+1)
	}

	// u's revision is now the stale one.
	again := r.change(h, u)
	err := h.tryWrite(func(tx store.Tx) error { return r.update(h, tx, again) })
	wantErr(h.t, "second update at the first revision", err, store.ErrConflict)
	*r.rev(&u)++
	diff(h.t, "after the second refused update", r.want(u), r.mustFetch(h, id))
}

// testLockedUpdates has many Writes at once lock a row, read it and update it, as the
// application updates a row with no etag: they queue for the row rather than fail on its
// revision, and every update counts.
func testLockedUpdates[T any](h *harness, r resource[T]) {
	v := r.value(h)
	id, rev := *r.id(&v), *r.rev(&v)
	r.put(h, v)
	u := r.change(h, v)
	const writers, rounds = 8, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range rounds {
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					if err := tx.Lock(h.ctx, r.lock, id); err != nil {
						return err
					}
					cur, err := r.get(h, tx, id)
					if err != nil {
						return err
					}
					next := u
					*r.rev(&next) = *r.rev(&cur)
					return r.update(h, tx, next)
				})
				if err != nil {
					h.t.Errorf("locked update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := r.mustFetch(h, id); *r.rev(&got) != rev+writers*rounds {
		h.t.Errorf("revision %d after %d updates from %d", *r.rev(&got), writers*rounds, rev)
	}
}
