// An AfterAllowTraffic hook in Cutover's simpler style: return the status (or
// {status: 'InProgress', retryAfterSeconds: 30} to be invoked again later). No callback needed.
export async function handler(_event) {
  // ... check the new version under full traffic here ...
  return { status: 'Succeeded' };
}
