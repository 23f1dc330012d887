<?php
/**
 * Sends events to Goalpost without ever slowing or breaking the request that made them, and
 * keeps the ones that could not be sent for WP-Cron to retry.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Send, queue, retry. An event keeps its `event_id` for life, so a retry that reaches the server
 * twice is stored once.
 */
final class Delivery {

	const QUEUE_OPTION  = 'goalpost_queue';
	const STATUS_OPTION = 'goalpost_status';
	const CRON_HOOK     = 'goalpost_retry';
	const MAX_QUEUED    = 500;
	/** Seconds for every send of a request whose response cannot go out first. */
	const REQUEST_BUDGET = 2.0;
	/** Seconds per event once nobody waits for the answer (after the response, cron, CLI). */
	const BACKGROUND_TIMEOUT = 10.0;
	/** Queued events one cron run sends at most, so a run stays short. */
	const RETRY_BATCH = 50;

	/**
	 * Events of this request, sent on shutdown.
	 *
	 * @var array[]
	 */
	private $pending = array();

	/**
	 * Registers the cron action.
	 */
	public function register(): void {
		add_action( self::CRON_HOOK, array( $this, 'retry_due' ) );
	}

	/**
	 * A server-side event of this request's visitor: site, ip, user agent, a fresh event_id
	 * and the time it happened (a retry hours later still lands in the visitor's session).
	 *
	 * @param array $fields type, url, form, name, ... as in POST /api/event.
	 */
	public static function event( array $fields ): array {
		$now     = \DateTime::createFromFormat( 'U.u', sprintf( '%.6F', microtime( true ) ) );
		$visitor = array_filter(
			array(
				'ip'         => Visitor::ip(),
				'user_agent' => Visitor::user_agent(),
			)
		);
		return array_merge(
			array(
				'site'      => Config::site(),
				'event_id'  => wp_generate_uuid4(),
				'timestamp' => $now ? $now->format( 'Y-m-d\TH:i:s.u\Z' ) : gmdate( 'Y-m-d\TH:i:s\Z' ),
			),
			$visitor,
			$fields
		);
	}

	/**
	 * Sends the event at the end of this request, after the response where PHP allows it.
	 *
	 * @param array $event An event from event().
	 */
	public function send( array $event ): void {
		if ( ! Config::can_send() ) {
			return;
		}
		$this->pending[] = $event;
		if ( 1 === count( $this->pending ) ) {
			add_action( 'shutdown', array( $this, 'deliver_pending' ), 1 );
		}
	}

	/**
	 * On shutdown: hand the response to the visitor first where PHP-FPM allows it, else keep
	 * every send of this request within REQUEST_BUDGET seconds.
	 */
	public function deliver_pending(): void {
		$events        = $this->pending;
		$this->pending = array();
		if ( ! $events ) {
			return;
		}
		$after_response = function_exists( 'fastcgi_finish_request' ) && fastcgi_finish_request();
		$budget         = $after_response ? self::BACKGROUND_TIMEOUT * count( $events ) : self::REQUEST_BUDGET;
		$items          = array();
		foreach ( $events as $event ) {
			$items[] = array(
				'event'    => $event,
				'attempts' => 0,
			);
		}
		$this->deliver( $items, $budget );
	}

	/**
	 * WP-Cron: sends the queued events that are due.
	 */
	public function retry_due(): void {
		$due = array();
		foreach ( $this->queue() as $item ) {
			if ( (int) $item['next_attempt'] <= time() ) {
				$due[] = $item;
			}
			if ( count( $due ) >= self::RETRY_BATCH ) {
				break;
			}
		}
		$this->deliver( $due, self::BACKGROUND_TIMEOUT * max( 1, count( $due ) ) );
		$this->schedule();
	}

	/**
	 * Sends every queued event now, due or not.
	 *
	 * @return array{delivered:int, rejected:int, queued:int}
	 */
	public function flush(): array {
		$outcomes = $this->deliver( $this->queue(), self::BACKGROUND_TIMEOUT * max( 1, count( $this->queue() ) ) );
		$counts   = array(
			'delivered' => 0,
			'rejected'  => 0,
			'queued'    => count( $this->queue() ),
		);
		foreach ( $outcomes as $outcome ) {
			if ( 'sent' === $outcome['result'] ) {
				++$counts['delivered'];
			} elseif ( 'rejected' === $outcome['result'] ) {
				++$counts['rejected'];
			}
		}
		$this->schedule();
		return $counts;
	}

	/**
	 * Sends one event now and returns the server's answer; queues nothing (the settings page's
	 * and the CLI's test event).
	 *
	 * @param array $event An event from event().
	 * @return array{result:string, code:int, message:string}
	 */
	public function send_now( array $event ): array {
		if ( ! Config::can_send() ) {
			return array(
				'result'  => 'rejected',
				'code'    => 0,
				'message' => __( 'Set the Goalpost URL, the site and the site API key first.', 'goalpost' ),
			);
		}
		$outcome = $this->post( $event, self::BACKGROUND_TIMEOUT );
		$this->record_answer( $outcome );
		return $outcome;
	}

	/**
	 * The queued events, oldest first.
	 *
	 * @return array[] Each {event, attempts, next_attempt, error}.
	 */
	public function queue(): array {
		$queue = get_option( self::QUEUE_OPTION, array() );
		return is_array( $queue ) ? array_values( $queue ) : array();
	}

	/**
	 * What the settings page and `wp goalpost status` show.
	 *
	 * @return array{last:?array, rejected:?array, dropped:int}
	 */
	public function status(): array {
		$status = get_option( self::STATUS_OPTION, array() );
		$status = is_array( $status ) ? $status : array();
		return array(
			'last'     => isset( $status['last'] ) && is_array( $status['last'] ) ? $status['last'] : null,
			'rejected' => isset( $status['rejected'] ) && is_array( $status['rejected'] ) ? $status['rejected'] : null,
			'dropped'  => isset( $status['dropped'] ) ? (int) $status['dropped'] : 0,
		);
	}

	/**
	 * Removes the cron event (deactivation; uninstall removes the options too).
	 */
	public static function unschedule(): void {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * Sends each item within a shared time budget, then writes back what became of it:
	 * sent and rejected items leave the queue, failed ones are (re)queued with a backoff.
	 *
	 * @param array[] $items  Queue items ({event, attempts, ...}).
	 * @param float   $budget Seconds for all of them.
	 * @return array[] The outcome of each item.
	 */
	private function deliver( array $items, float $budget ): array {
		$start    = microtime( true );
		$outcomes = array();
		$changes  = array();
		foreach ( $items as $item ) {
			$left = $budget - ( microtime( true ) - $start );
			if ( $left < 0.1 ) {
				$outcome = array(
					'result'  => 'failed',
					'code'    => 0,
					'message' => __( 'No time left in this request; queued.', 'goalpost' ),
				);
			} else {
				$outcome = $this->post( $item['event'], $left );
				$this->record_answer( $outcome );
			}
			$outcomes[] = $outcome;
			$id         = (string) $item['event']['event_id'];
			if ( 'failed' === $outcome['result'] ) {
				$attempts       = (int) $item['attempts'] + 1;
				$changes[ $id ] = array(
					'event'        => $item['event'],
					'attempts'     => $attempts,
					'next_attempt' => time() + min( HOUR_IN_SECONDS, MINUTE_IN_SECONDS * ( 2 ** min( $attempts - 1, 6 ) ) ),
					'error'        => $outcome['message'],
				);
			} else {
				$changes[ $id ] = null;
				if ( 'rejected' === $outcome['result'] ) {
					$this->record_rejection( $outcome, $item['event'] );
				}
			}
		}
		if ( $changes ) {
			$this->apply_to_queue( $changes );
		}
		return $outcomes;
	}

	/**
	 * Writes changes into the queue as it is now (another request may have queued meanwhile):
	 * null removes an event, an item replaces or appends it. Over MAX_QUEUED the oldest go.
	 *
	 * @param array<string, ?array> $changes By event_id.
	 */
	private function apply_to_queue( array $changes ): void {
		$queue = array();
		foreach ( $this->queue() as $item ) {
			$queue[ (string) $item['event']['event_id'] ] = $item;
		}
		$before = $queue;
		foreach ( $changes as $id => $item ) {
			if ( null === $item ) {
				unset( $queue[ $id ] );
			} else {
				$queue[ $id ] = $item;
			}
		}
		$dropped = 0;
		while ( count( $queue ) > self::MAX_QUEUED ) {
			array_shift( $queue );
			++$dropped;
		}
		if ( $dropped ) {
			$status            = get_option( self::STATUS_OPTION, array() );
			$status            = is_array( $status ) ? $status : array();
			$status['dropped'] = ( isset( $status['dropped'] ) ? (int) $status['dropped'] : 0 ) + $dropped;
			update_option( self::STATUS_OPTION, $status, false );
		}
		if ( $queue !== $before ) {
			update_option( self::QUEUE_OPTION, array_values( $queue ), false );
		}
		$this->schedule();
	}

	/**
	 * Keeps one cron event at the earliest due time while anything is queued.
	 */
	private function schedule(): void {
		$queue = $this->queue();
		if ( ! $queue ) {
			self::unschedule();
			return;
		}
		if ( false === wp_next_scheduled( self::CRON_HOOK ) ) {
			$due = min( array_map( 'intval', wp_list_pluck( $queue, 'next_attempt' ) ) );
			wp_schedule_single_event( max( time(), $due ), self::CRON_HOOK );
		}
	}

	/**
	 * One POST /api/event with the site key.
	 *
	 * @param array $event   The event.
	 * @param float $timeout Seconds.
	 * @return array{result:string, code:int, message:string} result: sent, failed (retry) or rejected.
	 */
	private function post( array $event, float $timeout ): array {
		$response = wp_remote_post(
			Config::url() . '/api/event',
			array(
				'timeout'     => $timeout,
				'redirection' => 0,
				'user-agent'  => 'Goalpost-WordPress/' . GOALPOST_VERSION,
				'headers'     => array(
					'Content-Type'  => 'application/json',
					'Authorization' => 'Bearer ' . Config::api_key(),
				),
				'body'        => wp_json_encode( $event ),
			)
		);
		if ( is_wp_error( $response ) ) {
			return array(
				'result'  => 'failed',
				'code'    => 0,
				'message' => $response->get_error_message(),
			);
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( $code >= 200 && $code < 300 ) {
			$goal    = is_array( $body ) && ! empty( $body['goal'] ) ? (string) $body['goal'] : '';
			$message = '' === $goal ? __( 'Accepted.', 'goalpost' )
				/* translators: %s: the name of the goal the event matched */
				: sprintf( __( 'Accepted; matched the goal "%s".', 'goalpost' ), $goal );
			$result  = 'sent';
		} else {
			$message = is_array( $body ) && isset( $body['error']['message'] ) ? (string) $body['error']['message'] : (string) wp_remote_retrieve_response_message( $response );
			// Busy or broken servers may take it later; any other 4xx would be refused again.
			$result = ( 429 === $code || $code >= 500 ) ? 'failed' : 'rejected';
		}
		return array(
			'result'  => $result,
			'code'    => $code,
			'message' => $message,
		);
	}

	/**
	 * Remembers the server's last answer.
	 *
	 * @param array $outcome From post().
	 */
	private function record_answer( array $outcome ): void {
		$status         = get_option( self::STATUS_OPTION, array() );
		$status         = is_array( $status ) ? $status : array();
		$status['last'] = array_merge( $outcome, array( 'time' => time() ) );
		update_option( self::STATUS_OPTION, $status, false );
	}

	/**
	 * Remembers a refused event, which is not retried: the settings page shows it.
	 *
	 * @param array $outcome From post().
	 * @param array $event   The refused event.
	 */
	private function record_rejection( array $outcome, array $event ): void {
		$status             = get_option( self::STATUS_OPTION, array() );
		$status             = is_array( $status ) ? $status : array();
		$status['rejected'] = array_merge(
			$outcome,
			array(
				'time' => time(),
				'type' => isset( $event['type'] ) ? (string) $event['type'] : '',
			)
		);
		update_option( self::STATUS_OPTION, $status, false );
	}
}
