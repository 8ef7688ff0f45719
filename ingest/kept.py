"""The readings the alert engine keeps of one quantity of one station, in time order, compactly.

Parallel arrays instead of a tuple per reading: about 32 bytes a reading instead of ~130, which is
what sizes the engine at province scale (26 h of 1-minute readings of 20,000 stations is 31 million
readings). A running sum of the values makes a window's total one subtraction instead of a walk
over the window: with 1-minute rain, a 24-hour rule summed 1,440 readings at every reading.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterator

#: a kept reading: (device time ms, value, interval s or 0, flags)
Kept = tuple[int, float, int, str]


class Series:
    """Readings by time (one per time: a reading at a kept time replaces it)."""

    __slots__ = ("_intervals", "flags", "intervals", "sums", "times", "values")

    def __init__(self) -> None:
        self.times = array("q")
        self.values = array("d")
        self.intervals = array("q")
        self.sums = array("d")  # sums[i] = values[0] + ... + values[i], from the first kept reading
        self.flags: dict[int, str] = {}  # time -> flags, only for readings that have some
        self._intervals: Counter[int] = Counter()

    def __len__(self) -> int:
        return len(self.times)

    def __getitem__(self, index: int) -> Kept:
        time_ms = self.times[index]
        return time_ms, self.values[index], self.intervals[index], self.flags.get(time_ms, "")

    def find(self, time_ms: int) -> int:
        """The index of the first reading at or after ``time_ms``."""
        return bisect.bisect_left(self.times, time_ms)

    def after(self, time_ms: int) -> int:
        """The index of the first reading after ``time_ms``."""
        return bisect.bisect_right(self.times, time_ms)

    def put(self, item: Kept) -> bool:
        """Keep ``item``; False when the same reading is kept already (a duplicate changes nothing)."""
        time_ms, value, interval, flags = item
        index = self.find(time_ms)
        if index < len(self.times) and self.times[index] == time_ms:
            if self[index] == item:
                return False
            self._intervals[self.intervals[index]] -= 1
            self.values[index], self.intervals[index] = value, interval
        else:
            self.times.insert(index, time_ms)
            self.values.insert(index, value)
            self.intervals.insert(index, interval)
            self.sums.insert(index, 0.0)
        self._intervals[interval] += 1
        if flags:
            self.flags[time_ms] = flags
        else:
            self.flags.pop(time_ms, None)
        self._sum_from(index)
        return True

    def drop_before(self, time_ms: int) -> None:
        """Forget the readings before ``time_ms``."""
        count = self.find(time_ms)
        if not count:
            return
        for index in range(count):
            self._intervals[self.intervals[index]] -= 1
            if self.flags:
                self.flags.pop(self.times[index], None)
        del self.times[:count], self.values[:count], self.intervals[:count], self.sums[:count]
        self._intervals = +self._intervals  # drop the intervals no reading has any more

    def since(self, time_ms: int) -> Iterator[Kept]:
        """The readings at or after ``time_ms``, in time order."""
        for index in range(self.find(time_ms), len(self.times)):
            yield self[index]

    def total(self, first: int, last: int) -> float:
        """The sum of the values of readings ``first`` to ``last - 1``."""
        if last <= first:
            return 0.0
        # the running sums count from the first reading ever kept here, not the first still kept
        before = self.sums[first - 1] if first else self.sums[0] - self.values[0]
        return self.sums[last - 1] - before

    def uniform_interval(self) -> int | None:
        """The interval every kept reading has, or None when they differ (or nothing is kept)."""
        found = [interval for interval, count in self._intervals.items() if count > 0]
        return found[0] if len(found) == 1 else None

    def _sum_from(self, index: int) -> None:
        running = self.sums[index - 1] if index else 0.0  # a new first reading starts the running sums anew
        for position in range(index, len(self.values)):
            running += self.values[position]
            self.sums[position] = running
