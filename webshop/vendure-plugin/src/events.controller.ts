/**
 * The push hint: `GET /pos/events` (Server-Sent Events) with the terminal's bearer token.
 *
 * On connect, and after every committed change, it sends
 *     event: change
 *     id: <cursor>
 *     data: {"cursor":"<cursor>"}
 * where <cursor> is the newest change-log cursor. The hint carries no data: the terminal reacts by
 * reading `posChanges` from its own cursor, so a lost hint costs nothing but latency, and
 * polling `posChanges` stays the safety net. A comment line every 15 s keeps proxies from closing
 * an idle stream; ChangeLog re-checks the newest id every 2 s while anyone listens, so changes
 * written by another server process (e.g. the worker) also reach this one's listeners.
 */
import { Controller, Get, Req, Res } from '@nestjs/common';
import { Allow, Ctx, RequestContext } from '@vendure/core';
import type { Request, Response } from 'express';
import { interval } from 'rxjs';

import { ChangeLog } from './change-log';
import { posTerminalPermission } from './permission';

@Controller('pos')
export class PosEventsController {
    constructor(private changeLog: ChangeLog) {}

    @Get('events')
    @Allow(posTerminalPermission.Permission)
    events(@Ctx() _ctx: RequestContext, @Req() req: Request, @Res() res: Response) {
        res.status(200);
        res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
        res.setHeader('Cache-Control', 'no-cache, no-transform');
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
        req.socket.setNoDelay(true);
        let last = '';
        const send = () => {
            const cursor = this.changeLog.currentCursor();
            if (cursor === last) return;
            last = cursor;
            res.write(`event: change\nid: ${cursor}\ndata: ${JSON.stringify({ cursor })}\n\n`);
        };
        res.write('retry: 2000\n\n');
        send();
        const hints = this.changeLog.latest$.subscribe(() => send());
        const keepAlive = interval(15000).subscribe(() => res.write(': ping\n\n'));
        req.on('close', () => {
            hints.unsubscribe();
            keepAlive.unsubscribe();
        });
    }
}
