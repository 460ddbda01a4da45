// Run as a separate process: a consumer that awaits sleepUntilAsync with nothing else keeping
// Node's event loop alive must still get its answer (false, after the timeout) instead of the
// process exiting while it waits.
import { NotificationBit, sleepUntilAsync } from '../src/index.js';

const bit = new NotificationBit(new SharedArrayBuffer(4), 0);
const found = await sleepUntilAsync(bit, () => false, 200);
console.log(`timed out: ${!found}, asleep: ${bit.isAsleep()}`);
