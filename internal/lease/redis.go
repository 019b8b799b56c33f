package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts the Redis key of a lease: healthjob:lease:<name>.
const KeyPrefix = "healthjob:lease:"

// redisLease is a key whose value starts with its holder's token: set with
// NX and PX to take it, extended and deleted by Lua scripts that compare
// the token first, so that no holder ever touches another's lease. The
// value is "<token> <since, unix ms> <holder>".
type redisLease struct {
	client       *redis.Client
	key, holder  string
	token, value string
}

var (
	extend = redis.NewScript(`if string.sub(redis.call('GET', KEYS[1]) or '', 1, #ARGV[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	release = redis.NewScript(`if string.sub(redis.call('GET', KEYS[1]) or '', 1, #ARGV[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)
)

func openRedis(ctx context.Context, rawURL, name, holder string) (*redisLease, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("lock URL %q: %v", redact(rawURL), err)
	}
	opts.MaxRetries = -1              // a renewal that fails is retried by the next one, within the TTL
	opts.ContextTimeoutEnabled = true // a renewal ends with its context, not after ReadTimeout
	r := &redisLease{client: redis.NewClient(opts), key: KeyPrefix + name, holder: holder, token: newToken()}
	if err := r.client.Ping(ctx).Err(); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("lock %s: %w", redact(rawURL), err)
	}
	return r, nil
}

func (r *redisLease) Hold(ctx context.Context, ttl time.Duration) (bool, error) {
	n, err := extend.Run(ctx, r.client, []string{r.key}, r.token+" ", ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("extend lease %s: %w", r.key, err)
	}
	if n == 1 {
		return true, nil
	}
	value := r.token + " " + strconv.FormatInt(time.Now().UnixMilli(), 10) + " " + r.holder
	ok, err := r.client.SetNX(ctx, r.key, value, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", r.key, err)
	}
	return ok, nil
}

func (r *redisLease) Release(ctx context.Context) error {
	if err := release.Run(ctx, r.client, []string{r.key}, r.token+" ").Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", r.key, err)
	}
	return nil
}

func (r *redisLease) Holder(ctx context.Context) (Info, error) {
	pipe := r.client.Pipeline()
	get, ttl := pipe.Get(ctx, r.key), pipe.PTTL(ctx, r.key)
	_, err := pipe.Exec(ctx)
	switch {
	case errors.Is(err, redis.Nil):
		return Info{}, nil
	case err != nil:
		return Info{}, fmt.Errorf("read lease %s: %w", r.key, err)
	}
	parts := strings.SplitN(get.Val(), " ", 3)
	if len(parts) != 3 {
		return Info{}, fmt.Errorf("read lease %s: unreadable value", r.key)
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Info{}, fmt.Errorf("read lease %s: unreadable value", r.key)
	}
	return Info{Holder: parts[2], Since: time.UnixMilli(ms), Expires: time.Now().Add(ttl.Val())}, nil
}

func (r *redisLease) Close() error { return r.client.Close() }
