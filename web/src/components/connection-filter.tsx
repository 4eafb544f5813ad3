// The "Connection" filter of the Access Requests and Analytics pages: the connections the person
// may see (the first 200, by name), "All connections", and the one in the address even when it is
// not among them. Choosing one sets `connection` in the address.
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { setQuery } from '../router.tsx';

export function ConnectionFilter({ id, value }: { id: string; value: string }) {
  const [connections, setConnections] = useState<string[]>([]);
  useEffect(() => {
    api
      .get<{ connections: { name: string }[] }>('/api/connections?limit=200')
      .then((r) => setConnections(r.connections.map((c) => c.name)))
      .catch(() => setConnections([]));
  }, []);
  const names = value && !connections.includes(value) ? [value, ...connections] : connections;
  return (
    <div className="field">
      <label htmlFor={id}>Connection</label>
      <select id={id} value={value} onChange={(e) => setQuery({ connection: e.target.value || undefined })}>
        <option value="">All connections</option>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}
