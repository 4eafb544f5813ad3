// `GET /api/admin/doctor`: why notifications may not arrive (src/notify/doctor.ts). Admins only:
// the answer names channels, reviewers' emails and connections.
import type { FastifyInstance } from 'fastify';
import type { DoctorReport } from '../contracts/doctor.js';
import { AppError, ErrorCode } from '../errors.js';

/** Registers the doctor inside the authenticated /api scope. */
export function registerDoctorRoute(api: FastifyInstance, doctor: () => Promise<DoctorReport>): void {
  api.get('/admin/doctor', async (req) => {
    if (!req.user!.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can run the doctor (it lists channels and reviewers); ask an admin of your gateway.');
    return doctor();
  });
}
