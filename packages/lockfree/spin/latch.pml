/*
 * The sleep protocol the udf components use on top of Sys (paper section 4.5), on TWO CPUs:
 * the driver's and the stack thread's "notification bit + re-check + blocking receive inside a
 * preemption-control window", woken by a ZERO-timeout IPC, with the Sys LATCH of issue 11:
 *
 *   sleeper (e.g. the stack thread)                 waker (e.g. the driver)
 *    1. work pending? consume it, go to 1            a. publish one item of work
 *    2. preemption.begin(): window open, MISSED := 0 b. takeWakeRequest(): load the bit, then
 *    3. prepareSleep(): bit := ASLEEP                   CAS ASLEEP -> AWAKE
 *    4. re-check: work || preempted()?               c. if b succeeded: ipc.send(sleeper, ZERO
 *         yes: cancelSleep(), end(), go to 1            timeout), one atomic kernel step:
 *    5. ipc.receive(NEVER), one atomic kernel step:       sleeper blocked in receive: deliver;
 *         MISSED: return `aborted` at once                otherwise the send FAILS, and if the
 *         otherwise block until a message arrives         sleeper's window is open it LATCHES:
 *    6. end(); cancelSleep(); go to 1                     MISSED := 1
 *
 * The two proctypes run truly concurrently: Spin explores every interleaving of their steps,
 * which is what two CPUs allow (on one CPU the waker could only run while the sleeper is
 * preempted, and the window alone would catch the race). Every statement of a proctype is one
 * sequentially consistent step; each kernel operation (send, receive) is one atomic step.
 *
 * Property (no lost wake-up): the sleeper terminates having consumed every item. A sleeper
 * blocked forever in its receive while work is pending is an invalid end state; the
 * assertions check that nothing is consumed twice or before it was published, and that the
 * sleeper never blocks in a receive while work is pending and no wake-up can come.
 *
 * Variants (pass to spin with -D):
 *   (default)   the protocol with the latch                             -> must verify
 *   -DNO_LATCH  BROKEN: a failed zero-timeout send is simply lost (Sys before issue 11)
 *                                                                       -> Spin must find an error
 *   -DITEMS=n   number of items (default 3)
 *   -DLIVENESS  also state the property in LTL (run pan -a, compiled without -DSAFETY)
 *
 * Run: spin -a latch.pml && gcc -DSAFETY -o pan pan.c && ./pan
 */
#ifndef ITEMS
#define ITEMS 3
#endif

#define AWAKE  0
#define ASLEEP 1

byte work = 0;          /* items published by the waker (the ring's tail) */
byte done = 0;          /* items consumed by the sleeper (the ring's head) */
byte nbit = AWAKE;      /* the notification bit in shared memory */
bool window = false;    /* the sleeper's preemption-control window is open */
bool missed = false;    /* the latch: a wake-up sent to the sleeper failed inside its window */
bool blocked = false;   /* the sleeper is blocked in ipc.receive */
byte delivered = 0;     /* wake-ups delivered */
byte failed = 0;        /* zero-timeout sends that failed */

#ifdef LIVENESS
/* The same property as an LTL formula: pending work is always eventually consumed. Checked
 * with an acceptance-cycle search: spin -DLIVENESS -a latch.pml; gcc -o pan pan.c; ./pan -a */
ltl no_lost_wakeup { [] ((work > done) -> <> (work == done)) }
#endif

active proctype Waker() {
  do
  :: work < ITEMS ->
       work++;                                       /* a. publish */
       /* b. takeWakeRequest(): load, then compareExchange(ASLEEP -> AWAKE) */
       if
       :: nbit == ASLEEP ->
            if
            :: atomic { nbit == ASLEEP -> nbit = AWAKE } ->
                 /* c. ipc.send(sleeper, msg, ZERO): one atomic kernel step */
                 atomic {
                   if
                   :: blocked -> blocked = false; delivered++
                   :: else ->
                        failed++;
#ifndef NO_LATCH
                        if
                        :: window -> missed = true   /* the latch */
                        :: else -> skip
                        fi
#endif
                   fi
                 }
            :: atomic { nbit != ASLEEP -> skip }      /* the CAS lost: someone cleared it */
            fi
       :: else -> skip                                /* awake: no wake-up needed */
       fi
  :: else -> break
  od
}

active proctype Sleeper() {
  do
  :: done == ITEMS -> break
  :: done < ITEMS && done < work ->
       assert(done < work);
       done++                                        /* 1. consume */
  :: else ->
       /* 2. begin(): open the window, clear the preempted/missed flag */
       atomic { window = true; missed = false };
       nbit = ASLEEP;                                 /* 3. prepareSleep() */
       if
       :: done < work || missed ->                   /* 4. re-check found work, or rollback */
            nbit = AWAKE;
            window = false
       :: else ->
            /* 5. ipc.receive(ANY, NEVER): one atomic kernel step */
            atomic {
              if
              :: missed -> skip                      /* returns `aborted` at once */
              :: else -> blocked = true
              fi
            };
            (!blocked);                              /* until a message is delivered */
            window = false;                          /* 6. end() */
            nbit = AWAKE                              /*    cancelSleep() */
       fi
  od;
  assert(done == ITEMS && work == ITEMS);
  assert(delivered + failed <= ITEMS)
}
