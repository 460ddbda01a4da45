/*
 * IPC wake-ups of the threads engine (src/ipc.ts, src/scheduler.ts) under the notification-bit
 * sleep protocol, across two domains.
 *
 * The consumer thread and its domain scheduler are one process (they share one worker); the
 * producer is another domain's thread that only ever sends with zero timeout. A control block's
 * locked sections are modelled as atomic steps (every field they touch is written only under the
 * lock); the window flag is a single atomic store by its owner, as in ControlBlocks.openWindow.
 * The scheduler blocks like Atomics.wait: compare the doorbell with the value read and block in
 * one step; a ring that comes before the wait makes it return at once, a ring that comes after
 * wakes it; nothing is latched.
 *
 * Property: the consumer terminates having consumed every item. A lost wake-up leaves it
 * blocked on its doorbell after the producer has finished: Spin reports an invalid end state.
 *
 * Variants (pass to spin with -D):
 *   (default)     latch on, doorbell rung after the state change   -> must verify
 *   -DNO_LATCH    BROKEN: a failed zero-timeout wake-up into an open window is forgotten
 *                                                                   -> Spin must find an error
 *   -DRING_FIRST  BROKEN: the waker rings the doorbell before it changes the receiver's state
 *                                                                   -> Spin must find an error
 *   -DSPLIT_CHECK BROKEN: the receive checks the latch and blocks in two steps, so a wake-up
 *                 can fail between them                             -> Spin must find an error
 *   -DITEMS=n     number of items (default 3)
 *
 * Run: spin -a wakeup.pml && gcc -DSAFETY -o pan pan.c && ./pan
 */
#ifndef ITEMS
#define ITEMS 3
#endif

#define AWAKE  0
#define ASLEEP 1

#define RUNNING 0
#define RECV    1
#define DONE    2

byte tail = 0;          /* ring tail (producer) */
byte head = 0;          /* ring head (consumer) */
byte word = AWAKE;      /* the consumer's notification bit */
byte state = RUNNING;   /* the consumer's control block: state word */
bool window = false;    /* flags: preemption window open */
bool missed = false;    /* flags: MISSED latch */
byte doorbell = 0;      /* the consumer domain's doorbell */

active proctype Producer() {
  bool wake;
  bool delivered;
  do
  :: tail < ITEMS ->
       tail++;                                        /* publish one item */
       atomic {                                       /* takeWakeRequest: CAS ASLEEP -> AWAKE */
         if
         :: word == ASLEEP -> word = AWAKE; wake = true
         :: else -> wake = false
         fi
       }
       if
       :: wake ->
#ifdef RING_FIRST
            doorbell++;
#endif
            atomic {                                  /* send(consumer, ZERO) under both locks */
              if
              :: state == RECV -> state = DONE; delivered = true
              :: else ->
                   delivered = false;
#ifndef NO_LATCH
                   if
                   :: window -> missed = true         /* latch MISSED */
                   :: else -> skip
                   fi
#endif
              fi
            }
#ifndef RING_FIRST
            if
            :: delivered -> doorbell++                /* ring last */
            :: else -> skip
            fi
#endif
       :: else -> skip
       fi
  :: else -> break
  od
}

active proctype Consumer() {
  byte v;
  bool aborted;
  do
  :: head == ITEMS -> break
  :: head < tail -> head++                            /* drain one */
  :: else ->                                          /* ring empty */
       atomic { window = true; missed = false };      /* preemption.begin(): one store */
       word = ASLEEP;                                 /* request a wake-up */
       if
       :: head < tail -> word = AWAKE; window = false /* re-check found work */
       :: else ->
#ifdef SPLIT_CHECK
            aborted = (window && missed);             /* BROKEN: check ... */
            if
            :: !aborted -> state = RECV               /* ... and block in separate steps */
            :: else -> skip
            fi;
#else
            atomic {                                  /* receive(producer): one locked section */
              if
              :: window && missed -> aborted = true   /* the latch: return `aborted` at once */
              :: else -> aborted = false; state = RECV
              fi
            }
#endif
            if
            :: aborted -> skip
            :: else ->
                 do                                   /* the domain scheduler */
                 :: v = doorbell;                     /* read the doorbell first ... */
                    if
                    :: state == DONE -> state = RUNNING; break  /* ... then scan: collect */
                    :: else -> (doorbell != v)        /* Atomics.wait(doorbell, v) */
                    fi
                 od
            fi;
            word = AWAKE;
            window = false                            /* preemption.end() */
       fi
  od;
  assert(head == ITEMS)
}
