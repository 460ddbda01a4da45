/*
 * The notification-bit protocol of @udf/lockfree (paper section 4.5), as implemented by
 * NotificationBit, Notifier and sleepUntil in src/notify.ts.
 *
 * One producer publishes ITEMS items into an SPSC ring and decides, per its policy, whether to
 * wake the consumer; the consumer drains the ring and sleeps with the "request signal,
 * re-check, then block" protocol. The blocking primitive is modelled like Atomics.wait/notify:
 *   - wait(word, ASLEEP) compares and blocks in one atomic step;
 *   - notify wakes a thread that is blocked at that moment and is otherwise LOST (not latched).
 * Every statement of a proctype is one sequentially consistent step, like Atomics operations.
 *
 * Property: the consumer terminates having consumed every item. A lost wake-up leaves it
 * blocked forever after the producer has finished, which Spin reports as an invalid end state;
 * the assertions check that nothing is consumed twice or before it was published.
 *
 * Variants (pass to spin with -D):
 *   (default)      when-asleep policy, correct protocol            -> must verify
 *   -DBATCH=k      deferred policy: check the bit every k items and when the producer runs dry
 *   -DNO_RECHECK   BROKEN: the consumer blocks without re-checking the ring after requesting a
 *                  signal                                            -> Spin must find an error
 *   -DNO_DRY_FLUSH BROKEN (with BATCH>1): the producer forgets to flush when it runs dry
 *   -DITEMS=n      number of items (default 3)
 *
 * Run: spin -a notify.pml && gcc -DSAFETY -o pan pan.c && ./pan
 */
#ifndef ITEMS
#define ITEMS 3
#endif
#ifndef BATCH
#define BATCH 1
#endif

#define AWAKE  0
#define ASLEEP 1

byte tail = 0;          /* ring tail: Atomics.store by the producer after writing the slot */
byte head = 0;          /* ring head: Atomics.store by the consumer after reading the slot */
byte word = AWAKE;      /* the notification word */
bool blocked = false;   /* the consumer is inside Atomics.wait */
byte wakeups = 0;       /* notifications sent */

active proctype Producer() {
  byte pending = 0;
  bool flush;
  do
  :: tail < ITEMS ->
       tail++;                               /* publish one item */
       pending++;
       flush = (pending >= BATCH);
       if
       :: flush ->
            pending = 0;
            /* takeWakeRequest(): load, then compareExchange(ASLEEP -> AWAKE) */
            if
            :: word == ASLEEP ->
                 atomic {
                   if
                   :: word == ASLEEP -> word = AWAKE; wakeups++; blocked = false  /* notify */
                   :: else -> skip
                   fi
                 }
            :: else -> skip
            fi
       :: else -> skip
       fi
  :: else -> break
  od;
#ifndef NO_DRY_FLUSH
  /* onDry(): flush deferred items */
  if
  :: pending > 0 ->
       pending = 0;
       if
       :: word == ASLEEP ->
            atomic {
              if
              :: word == ASLEEP -> word = AWAKE; wakeups++; blocked = false
              :: else -> skip
              fi
            }
       :: else -> skip
       fi
  :: else -> skip
  fi
#endif
}

active proctype Consumer() {
  byte seen;
  do
  :: head == ITEMS -> break
  :: else ->
       seen = tail;                          /* count() */
       if
       :: head < seen ->
            assert(head < tail);
            head++                           /* pop */
       :: else ->
            /* sleepUntil(bit, () => count() > 0) */
            do
            :: word = ASLEEP;                /* prepareSleep(): request a signal */
#ifndef NO_RECHECK
               if
               :: head < tail -> break       /* re-check found work */
               :: else -> skip
               fi;
#endif
               /* Atomics.wait(word, ASLEEP): compare-and-block, one atomic step */
               atomic {
                 if
                 :: word == ASLEEP -> blocked = true
                 :: else -> skip
                 fi
               };
               (!blocked);                   /* until notified */
#ifdef NO_RECHECK
               break
#else
               if
               :: head < tail -> break       /* re-read after waking */
               :: else -> skip
               fi
#endif
            od;
            word = AWAKE                     /* cancelSleep() */
       fi
  od;
  assert(head == ITEMS && tail == ITEMS);
  assert(wakeups <= ITEMS)
}
