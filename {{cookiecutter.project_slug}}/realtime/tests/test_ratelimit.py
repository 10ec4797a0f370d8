from realtime.ratelimit import TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_burst_then_refusal_then_refill():
    clock = FakeClock()
    bucket = TokenBucket(burst=3, per_second=2, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now += 60  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_retry_after_is_the_time_until_the_next_token():
    clock = FakeClock()
    bucket = TokenBucket(burst=2, per_second=2, clock=clock)
    assert bucket.retry_after() == 0  # a full bucket: now
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    assert bucket.retry_after() == 0.5  # empty: a whole token, at 2 a second
    clock.now += 0.25
    assert bucket.take() is False  # half a token back
    assert bucket.retry_after() == 0.25
